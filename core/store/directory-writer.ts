import type { Worker } from 'node:worker_threads';
import { FluxgateError, type ErrorCode } from '../errors';
import { startModuleWorker } from '../module-worker';
import type { Service } from '../tokens';

/** A batch of new employees for the writer thread: INSERT parameters in chunks of CHUNK_ROWS rows, and the shapes they name. */
export interface WriterBatch { shapes: Array<[id: string, text: string]>; chunks: unknown[][]; count: number }

/** What the server's thread asks the writer thread (directory-writer-worker.ts). */
export type WriterRequest = ({ t: 'create'; id: number } & WriterBatch) | { t: 'close' };

/** An error of the writer thread as it crosses back: a FluxgateError keeps its code and details, a SQLite error its code. */
export interface WriterError { name: string; message: string; code?: string; details?: Record<string, unknown>; fluxgate: boolean }

export type WriterReply = { id: number; ok: boolean[] } | { id: number; error: WriterError };

/** The data the writer thread starts with. */
export interface WriterData {
  database: string;
  /** WalCheckpointer.sharedWriteCount: the thread's commits count as the server's own do. */
  writes?: SharedArrayBuffer;
}

export function toWriterError(err: unknown): WriterError {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & { code?: unknown; details?: unknown };
  return {
    name: e.name, message: e.message, code: typeof e.code === 'string' ? e.code : undefined,
    details: e.details && typeof e.details === 'object' ? e.details as Record<string, unknown> : undefined,
    fluxgate: err instanceof FluxgateError,
  };
}

function revive(error: WriterError): Error {
  if (error.fluxgate && error.code) return new FluxgateError(error.code as ErrorCode, error.message, error.details);
  // A SQLite error (SQLITE_FULL, SQLITE_BUSY…) keeps its code: the engine decides on it as on its own.
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}

interface Waiting { resolve(results: boolean[]): void; reject(err: Error): void }

/** The writer thread's young generation (V8's resourceLimits), in MiB. */
const WRITER_YOUNG_MB = 4;

/**
 * The SQLite directory's big batches of new employees (a sal file's rows, most of a big file),
 * inserted and committed on a thread of their own, on a connection of their own to the same
 * database file, while the server's thread reads and checks the next rows: there, the INSERTs
 * and their commits were ~0.75 s of a 200,000-row file's 1.7 s on a core (docs/benchmarks.md),
 * and SFTP sessions waited meanwhile. The server's thread still builds each row's INSERT
 * parameters (directory-rows.ts, employeeParamsDeferred): the thread only binds and commits.
 * Each batch is one transaction, committed before its promise resolves; batches run in the
 * order given.
 *
 * Started once the server runs (`started`), and stopped as a store service after everything
 * that writes. If the thread dies, the batches it held fail (their files are retried as after
 * any store error) and the next batch starts another.
 */
export class DirectoryWriter implements Service {
  readonly name = 'directory writer';
  private worker?: Worker;
  private lastId = 0;
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly data: WriterData) {}

  start(): void { /* the thread starts once the server runs */ }

  /** Starts the thread in the background: the first big file then finds it ready. */
  started(): void {
    this.thread();
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Held while it closes: an unref'd thread would let a stopping process exit before the rest of its stop.
    worker.ref();
    // Batches under way finish first: the thread reads `close` after them, closes its connection and exits.
    worker.postMessage({ t: 'close' } satisfies WriterRequest);
    await exited;
  }

  /** The batch inserted on the writer thread: whether each row's key was new. */
  write(batch: WriterBatch): Promise<boolean[]> {
    const worker = this.thread();
    const id = ++this.lastId;
    return new Promise<boolean[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ t: 'create', id, ...batch } satisfies WriterRequest);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    // A batch's parameters (~1 MB) die with its transaction: a small young generation holds them,
    // and keeps the thread's heap from adding what V8's default one would to the server's peak.
    const started = startModuleWorker(__filename, 'directory-writer-worker', { workerData: this.data, resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_MB } });
    const lost = (err: Error) => {
      if (this.worker === started) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    started.on('message', (reply: WriterReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) started.unref();
      if ('ok' in reply) w.resolve(reply.ok);
      else w.reject(revive(reply.error));
    });
    started.on('error', lost);
    started.on('exit', (code) => lost(new FluxgateError('FG_INTERNAL', `the directory writer thread stopped (exit code ${code}) before it answered`)));
    // Held only while a batch is under way: an idle writer does not keep the process up.
    started.unref();
    this.worker = started;
    return started;
  }
}
