import type { Worker } from 'node:worker_threads';
import { FluxgateError, type ErrorCode } from '../errors';
import { startModuleWorker } from '../module-worker';
import { rejectFile } from '../plugin-api/outcome';
import type { Dialect } from '../plugin-api/records';
import type { RowBatch, RowOptions } from './csv-rows';

/**
 * CSV parsing on a worker thread, for big files: reading, the UTF-8 check, csv-parse and
 * value cleaning run there while the main thread validates and stores the rows it already
 * has, and the event loop (SFTP sessions, other files) is not held by parsing. One worker,
 * started on first use and kept; it parses every job it is given, each at most a few
 * batches ahead of its reader (memory stays flat). Rows arrive in the same batches, and the
 * same errors, as parseRows on this thread gives.
 */
export type ThreadRequest =
  | { type: 'start'; job: number; path: string; dialect: Dialect }
  | { type: 'ack' | 'cancel'; job: number };
export interface ThreadError { code?: ErrorCode; message: string; details?: Record<string, unknown>; rejection: boolean }
export type ThreadReply =
  | { type: 'rows'; job: number; fields: string[][]; lines: number[] }
  | { type: 'end'; job: number }
  | { type: 'error'; job: number; error: ThreadError };

interface JobSink { deliver(reply: ThreadReply): void; fail(err: Error): void }

let worker: Worker | undefined;
let lastJob = 0;
const sinks = new Map<number, JobSink>();

function parseWorker(): Worker {
  if (worker) return worker;
  // csv-thread-worker.ts, beside this file (compiled, or through tsx: module-worker.ts).
  const started = startModuleWorker(__filename, 'csv-thread-worker');
  const lost = (err: Error) => {
    if (worker === started) worker = undefined;
    for (const sink of sinks.values()) sink.fail(err);
    sinks.clear();
  };
  started.on('message', (reply: ThreadReply) => sinks.get(reply.job)?.deliver(reply));
  started.on('error', lost);
  started.on('exit', (code) => lost(new Error(`the CSV parse worker stopped (exit code ${code})`)));
  started.unref(); // held only while a job runs (see parseRowsOnThread)
  worker = started;
  return started;
}

/**
 * Starts the parse worker if it is not running, without giving it work. The records reader
 * calls it when it reads a small CSV file on the main thread: a big file often follows (sir,
 * then sal), and it then finds the thread ready instead of waiting for it to start (the first
 * rows of a 200,000-row file came 70-120 ms after the start; 45-57 ms with the thread ready).
 */
export function startParseThread(): void {
  parseWorker();
}

function revive(error: ThreadError): Error {
  if (error.rejection && error.code) return rejectFile(error.code, error.message, error.details);
  if (error.code) return new FluxgateError(error.code, error.message, error.details);
  return new Error(error.message);
}

/** parseRows (csv-rows.ts) on the parse worker: batches come already cleaned. */
export async function* parseRowsOnThread(path: string, dialect: Dialect, { signal }: RowOptions = {}): AsyncGenerator<RowBatch> {
  const thread = parseWorker();
  const job = ++lastJob;
  const queue: ThreadReply[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => { wake?.(); wake = undefined; };
  sinks.set(job, {
    deliver(reply) { queue.push(reply); notify(); },
    fail(err) { failure = err; notify(); },
  });
  if (sinks.size === 1) thread.ref();
  signal?.addEventListener('abort', notify);
  thread.postMessage({ type: 'start', job, path, dialect } satisfies ThreadRequest);
  let settled = false;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const reply = queue.shift();
      if (!reply) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      if (reply.type === 'end') { settled = true; return; }
      if (reply.type === 'error') { settled = true; throw revive(reply.error); }
      thread.postMessage({ type: 'ack', job } satisfies ThreadRequest);
      yield { fields: reply.fields, lines: reply.lines, clean: true };
    }
  } finally {
    signal?.removeEventListener('abort', notify);
    sinks.delete(job);
    if (!settled && !failure) thread.postMessage({ type: 'cancel', job } satisfies ThreadRequest);
    if (sinks.size === 0) thread.unref();
  }
}
