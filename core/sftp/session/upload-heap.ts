import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { operatorSetV8Flag } from '../../v8-flags';
import { v8Gc } from './v8-gc';

/**
 * The old generation's allocation limit (`--heap-growing-percent`, read by V8 at each limit
 * computation, so settable at run time): a headroom while uploads run, and in a server a
 * modest factor the rest of the time.
 *
 * Each socket read gives a new 64 KiB ArrayBuffer, and the pieces of WRITE requests stay alive
 * until written (write-framing.ts): during an upload the process's external memory swings by
 * tens of MB between scavenges. V8 evidently counts the external memory allocated since the
 * last mark-compact against the old generation's allocation limit (inferred from its GC
 * traces), and on a mostly idle server it sets that limit only ~10 MB above the live heap: once
 * one mark-compact happens during an upload, the swing alone passes the limit again and again
 * (tens of mark-compacts per 512 MiB upload; the measurements, on Node 20 and 24, are in
 * docs/sftp.md). Since upload-scavenge.ts scavenges every 8 MiB received the swing is
 * smaller; the headroom was kept as it is, not measured without it.
 *
 * So while at least one upload is open, the limit after a mark-compact sits HEADROOM_BYTES
 * above the live heap, with at most V8's own largest growing factor (4, which it uses itself
 * when the old generation allocates fast). That limit holds until a mark-compact reaches it: if
 * one ran during the uploads, the held limit would outlast them (the file they brought is
 * processed under it and its garbage piles up to the end: bench:sal's peak, docs/benchmarks.md),
 * so one mark-compact runs as the last upload closes.
 *
 * Outside uploads, V8 picks its own factor (1.1 to 4) from how fast the program allocates: 4
 * while a big file is processed, or at start-up, and the whole file then runs under a limit 4x
 * the live heap (~120-180 MB of promoted garbage in bench:sal, peaks of 300-380 MB). A server
 * (`serve`, holdServerHeapGrowing) holds SERVER_GROWING_PERCENT instead, from before the engine
 * loads: a mark-compact every time the old generation doubles, one or two per 200,000-row file.
 *
 * Left alone when the operator sets the flag on node's command line or NODE_OPTIONS. The flag
 * is process-wide: worker threads (the CSV parse thread) see it too.
 */
/** Enough for the swing of one upload's buffers (docs/sftp.md has how it was chosen). */
export const HEADROOM_BYTES = 64 * 1024 * 1024;
/** V8's kMaxGrowingFactor is 4. */
const MAX_PERCENT = 300;
const MIN_PERCENT = 10;
/**
 * A server's factor outside uploads: 2, where V8 would pick up to 4 (bench:sal's peak RSS
 * 256-287 MB in 31 rounds, against up to 344-380 MB; the same CPU: docs/benchmarks.md, perf-heap).
 */
export const SERVER_GROWING_PERCENT = 100;

const operatorChoice = operatorSetV8Flag(/heap[-_]growing[-_]percent/);

let open = 0;
let current = 0;
/** What applies outside uploads (0: V8's dynamic factor). */
let outside = 0;
/** Mark-compacts seen while uploads were open: each set a limit with the held headroom. */
let heldMarkCompacts = 0;
/** Whether a mark-compact has set the old generation's limit with the upload headroom yet. */
let headroomEverSet = false;
let observer: PerformanceObserver | undefined;

function countMarkCompacts(entries: PerformanceEntry[]): void {
  for (const entry of entries) {
    if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) heldMarkCompacts++;
  }
}

function watchMarkCompacts(): void {
  heldMarkCompacts = 0;
  observer = new PerformanceObserver((list) => countMarkCompacts(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
}

/** Ends the watch; whether a mark-compact ran while it lasted. */
function unwatchMarkCompacts(): boolean {
  if (observer) {
    countMarkCompacts(observer.takeRecords());
    observer.disconnect();
    observer = undefined;
  }
  return heldMarkCompacts > 0;
}

/** One full, synchronous GC. */
function collectFully(): void {
  v8Gc()();
}

/** The percent that puts the limit HEADROOM_BYTES above a heap of `used` bytes, within bounds. */
export function growingPercentFor(used: number): number {
  const percent = Math.ceil((HEADROOM_BYTES * 100) / Math.max(used, 1));
  return Math.min(MAX_PERCENT, Math.max(MIN_PERCENT, percent));
}

function apply(percent: number): void {
  if (percent === current) return;
  current = percent;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * For a server: SERVER_GROWING_PERCENT outside uploads from now on. Called by `serve` before
 * it loads the engine, so that the limits set at start-up use it too.
 */
export function holdServerHeapGrowing(): void {
  if (operatorChoice) return;
  outside = SERVER_GROWING_PERCENT;
  if (open === 0) apply(outside);
}

/** The value this module last gave V8 (0: V8's own dynamic factor). */
export function heapGrowingPercent(): number {
  return current;
}

/** Holds the headroom for one upload; the returned function releases it (idempotent). */
export function holdUploadHeadroom(): () => void {
  if (operatorChoice) return () => undefined;
  // Sized on the heap as it is now: it changes slowly, and each new upload sizes it again.
  // Never below the server's factor outside uploads: the headroom is a floor.
  apply(Math.max(outside, growingPercentFor(getHeapStatistics().used_heap_size)));
  if (!headroomEverSet) {
    // The process's first upload: the limit in force was computed at start-up, on the smaller
    // heap of a server that had served nothing, and the first uploads' promotions (compiled
    // code, sessions) reached it, with 2 mark-compacts in the second or third upload of every
    // bench:sftp run (its slowest round). One full GC now, on a heap at rest, sets the limit
    // with the headroom from the start.
    headroomEverSet = true;
    collectFully();
  }
  if (open++ === 0) watchMarkCompacts();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    open--;
    if (open > 0) return;
    apply(outside);
    if (unwatchMarkCompacts()) collectFully();
  };
}
