/**
 * The engine's side of one sandboxed run, on a worker thread of the server: it reads the
 * sandbox's frames with blocking reads and answers ctx.directory calls and batches on a
 * directory of its own (core/store's openDirectory: its own connection to the configured
 * store), one request at a time, so the main thread stays free while the plugin works. A batch
 * is the store's unit of work (one transaction); no transaction stays open between frames.
 * Report items, logs and the outcome go to the main thread (sandboxed-handler.ts).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData, type Worker } from 'node:worker_threads';
import { startModuleWorker } from '../module-worker';
import { chooseFormat } from '../records/format';
import { openDirectory, type DirectoryTarget, type OpenedDirectory } from '../store/directory-factory';
import { applyBatch, bindDirectory } from '../workflow/account-directory';
import { readFrame, writeFrame } from './frames';
import { decodeBatch, decodeCreates } from './batch-wire';
import { readSpooled } from './batch-spool';
import type { FeederData } from './records-feeder';
import { threadCpuMs, type EngineTimings } from './run-timings';
import { answerOf, decodeArgs, encodeResults, toWireError, type ChildMessage, type Job, type RecordsRequest, type ReportItem, type WorkerEvent } from './protocol';

export interface HostWorkerData {
  /** The FIFOs the child opens too (sandboxed-handler.ts): its end closing is how the worker sees it gone. */
  requestPath: string;
  answerPath: string;
  /** The store whose directory the run reads and writes (a plain description: it crosses to this thread). */
  store: DirectoryTarget;
  job: Job;
  /** A folder the sandbox may read, for the FIFOs its ctx.records() calls read the input's rows from. */
  recordsDir: string;
  /** The folder the sandbox writes its batches to (batch-spool.ts). */
  batchesDir: string;
  /** WalCheckpointer.sharedWriteCount: each committed transaction counts, as the server's own writes do. */
  writes?: SharedArrayBuffer;
}

// The run's data: given at the start (workerData), or, for a worker started ahead with its
// modules loaded (a spare: sandboxed-handler.ts), in its first message (begin, at the end).
let requestPath: string;
let answerPath: string;
let recordsDir: string;
let batchesDir: string;
let job: Job;
let opened: OpenedDirectory;
let directory: Record<string, (...a: unknown[]) => Promise<unknown>>;
const post = (event: WorkerEvent): void => parentPort!.postMessage(event);

/** Ends the loop: the child finished (done/failed) or is gone. */
class Finished extends Error {}
let pending: ReportItem[] = [];

function flushReport(): void {
  if (pending.length) post({ t: 'report', items: pending });
  pending = [];
}

/** This run's side of run-timings.ts (ms). */
const timings: EngineTimings = { openMs: 0, startMs: 0, waitMs: 0, batchMs: 0, readMs: 0, batches: 0, cpuMs: 0, tailMs: 0 };
/** When the job was written, and the last batch answered (performance.now()). */
let jobAt = 0;
let lastBatchAt = 0;

/** The sandbox's next request, the time blocked for it counted. */
function nextRequest(): ChildMessage | undefined {
  const since = performance.now();
  const m = readFrame<ChildMessage>(requestFd);
  const now = performance.now();
  if (timings.startMs === 0) timings.startMs = now - jobAt;
  else timings.waitMs += now - since;
  return m;
}

/** Serves frames until the child finishes (throws Finished); each answer is written before the next frame is read. */
async function serve(): Promise<never> {
  for (;;) {
    const m = nextRequest();
    if (!m || m.t === 'gone') throw new Finished();
    switch (m.t) {
      case 'report':
        pending.push(...m.items);
        // A frame holds up to 512 items or 512 counts (child.ts): passed on as it comes.
        flushReport();
        break;
      case 'log':
        post(m);
        break;
      case 'call': {
        const fn = directory[m.method];
        try {
          if (typeof fn !== 'function') throw new Error(`ctx.directory has no method ${m.method}`);
          writeFrame(answerFd, answerOf(await fn(...decodeArgs(m.args))));
        } catch (err) {
          writeFrame(answerFd, { error: toWireError(err) });
        }
        break;
      }
      case 'batch': {
        const since = performance.now();
        try {
          const ops = 'spooled' in m ? readSpooled(batchesDir, m.spooled) : m.ops;
          // New employees only (a sal batch of new rows): bound from the flat values as they came, on the run's account.
          const creates = decodeCreates(ops);
          timings.readMs += performance.now() - since;
          const results = creates ? await opened.directory.createEmployeeRows(job.settings.account.id, creates.rows, creates.options)
            : await applyBatch(opened.directory, job.settings.account.id, job.manifest.flux, decodeBatch(ops));
          writeFrame(answerFd, { ok: encodeResults(results) });
        } catch (err) {
          writeFrame(answerFd, { error: toWireError(err) });
        }
        lastBatchAt = performance.now();
        timings.batchMs += lastBatchAt - since;
        timings.batches++;
        break;
      }
      case 'records':
        try {
          writeFrame(answerFd, { ok: recordsFifo(m.options) });
        } catch (err) {
          writeFrame(answerFd, { error: toWireError(err) });
        }
        break;
      case 'done':
      case 'failed':
        flushReport();
        if (lastBatchAt) timings.tailMs = performance.now() - lastBatchAt;
        post(m);
        throw new Finished();
    }
  }
}

let readers = 0;
const feeders: Worker[] = [];

/** A FIFO and the engine's reader writing the input's rows to it (records-feeder.ts), for one ctx.records(). */
function startFeeder(options: RecordsRequest): { fifo: string; options: RecordsRequest } {
  const fifo = join(recordsDir, `records-${++readers}`);
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const data: FeederData = { fifo, inputPath: job.inputPath, options };
  const feeder = startModuleWorker(__filename, 'records-feeder', { workerData: data });
  feeder.on('error', (err: Error) => post({ t: 'log', level: 'warn', obj: { err: { message: err.message, stack: err.stack } }, msg: 'sandbox records reader failed' }));
  feeders.push(feeder);
  return { fifo, options };
}

const readerOptions = (o: RecordsRequest): RecordsRequest => ({ dialect: o.dialect, format: o.format, fileName: o.fileName ?? job.fileName });
const sameOptions = (a: RecordsRequest, b: RecordsRequest): boolean => a.dialect === b.dialect && a.format === b.format && a.fileName === b.fileName;

/** Inputs from this size on get a reader before the plugin asks (below); a thread costs ~50 ms to start. */
const EARLY_MIN_BYTES = 1024 * 1024;

/**
 * Started with the sandbox for a big input, before its plugin asks (begin): a reader for the
 * account's dialect, the options most handlers pass, so the parse overlaps the sandbox's start
 * (~0.3 s). Taken by the first ctx.records() with those options; otherwise it stops with the
 * run. Not for small inputs: a plugin doing nothing took ~50 ms longer per file (bench:sandbox).
 */
let early: { fifo: string; options: RecordsRequest } | undefined;

function inputSize(): number {
  try {
    return statSync(job.inputPath).size;
  } catch {
    return 0; // the reader reports a missing input when asked
  }
}

/** The FIFO a ctx.records() call reads from. */
function recordsFifo(asked: RecordsRequest): string {
  const options = readerOptions(asked);
  const taken = early && sameOptions(early.options, options) ? early : startFeeder(options);
  early = undefined;
  return taken.fifo;
}

let requestFd: number;
let answerFd: number;

function begin(data: HostWorkerData): void {
  const since = performance.now();
  ({ requestPath, answerPath, recordsDir, batchesDir, job } = data);
  const noted = data.writes && new Int32Array(data.writes);
  // With the server's write count comes its WAL checkpointer: it checkpoints what this run writes.
  opened = openDirectory(data.store, { afterWrite: noted && (() => { Atomics.add(noted, 0, 1); }), checkpointed: noted !== undefined });
  directory = bindDirectory(opened.directory, job.settings.account.id, job.manifest.flux) as unknown as typeof directory;
  const earlyOptions = readerOptions({ dialect: job.settings.account.profile });
  // A CSV input is parsed by the sandbox itself (child-records.ts, sandboxRecords): only an XLSX one gets a reader here.
  early = chooseFormat(job.inputPath, earlyOptions) === 'xlsx' && inputSize() >= EARLY_MIN_BYTES ? startFeeder(earlyOptions) : undefined;
  // Opened in the child's order (requests, then answers): each open waits for the other end.
  requestFd = openSync(requestPath, 'r');
  answerFd = openSync(answerPath, 'w');
  timings.openMs = performance.now() - since;
  void main();
}

async function main(): Promise<void> {
  const cpu = threadCpuMs();
  try {
    writeFrame(answerFd, job);
    jobAt = performance.now();
    await serve();
  } catch (err) {
    if (!(err instanceof Finished)) post({ t: 'failed', error: toWireError(err) });
  } finally {
    flushReport();
    // A reader whose rows the plugin left unread: its writes end (EPIPE) as the sandbox exits.
    for (const feeder of feeders) void feeder.terminate();
    await opened.close();
    closeSync(requestFd);
    closeSync(answerFd);
    post({ t: 'end', timings: roundAll({ ...timings, cpuMs: threadCpuMs() - cpu }) });
  }
}

function roundAll<T extends object>(values: T): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Math.round(v as number)])) as T;
}

if (workerData) begin(workerData as HostWorkerData);
else parentPort!.once('message', begin);
