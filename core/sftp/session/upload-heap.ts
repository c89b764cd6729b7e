import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { operatorSetV8Flag } from '../../v8-flags';

/**
 * Heap headroom while uploads run.
 *
 * Each socket read gives a new 64 KiB ArrayBuffer, and the pieces of WRITE requests stay alive
 * until written (write-framing.ts): during an upload the process's external memory swings by
 * tens of MB between scavenges. V8 (11.3, Node 20) evidently counts the external memory
 * allocated since the last mark-compact against the old generation's allocation limit (what
 * the GC traces show; inferred, see docs/sftp.md). On a mostly idle
 * server V8 sets that limit only ~10 MB above the live heap after a mark-compact (growing
 * factor 1.1: little is allocated in the old generation), so once one mark-compact happens
 * during an upload (external memory pressure, a memory-reducer GC), the swing alone passes the
 * limit again and again: 20 to 30 mark-compacts per 512 MiB uploaded, ~0.8 CPU-s, measured
 * with `bench:sftp` and --trace-gc / --trace-incremental-marking (see docs/sftp.md).
 *
 * Still so with V8 13.6 (Node 24, re-measured 2026-12-06, docs/sftp.md): without this, 19 to 38
 * mark-compacts per 512 MiB upload and ~0.4 CPU-s more per upload; with it, 0 to 5.
 *
 * So while at least one upload is open, `--heap-growing-percent` (read by V8 at each limit
 * computation, hence settable at run time) makes the limit after a mark-compact sit
 * HEADROOM_BYTES above the live heap, with at most V8's own largest growing factor (4, which
 * it uses itself when the old generation allocates fast). When the last upload closes, V8's
 * own choice applies again (0: its dynamic factor) from the next mark-compact on. Left alone
 * when the operator sets the flag on node's command line or NODE_OPTIONS.
 *
 * The flag is process-wide: worker threads (the CSV parse thread) see it too while uploads run.
 */
/** 96 MiB on Node 20; 64 on Node 24, whose idle server is ~15 MiB bigger: a lower peak, no more mark-compacts. */
export const HEADROOM_BYTES = 64 * 1024 * 1024;
/** V8's kMaxGrowingFactor is 4. */
const MAX_PERCENT = 300;
const MIN_PERCENT = 10;

const operatorChoice = operatorSetV8Flag(/heap[-_]growing[-_]percent/);

let open = 0;
let current = 0;

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

/** The value this module last gave V8 (0: V8's own dynamic factor). */
export function heapGrowingPercent(): number {
  return current;
}

/** Holds the headroom for one upload; the returned function releases it (idempotent). */
export function holdUploadHeadroom(): () => void {
  if (operatorChoice) return () => undefined;
  open++;
  // Sized on the heap as it is now: it changes slowly, and each new upload sizes it again.
  apply(growingPercentFor(getHeapStatistics().used_heap_size));
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    open--;
    if (open === 0) apply(0);
  };
}
