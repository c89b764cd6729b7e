import type { Worker } from 'node:worker_threads';
import * as openpgp from 'openpgp';
import { startModuleWorker } from '../module-worker';

/** What the signing worker is started with: the server's private key, decrypted, armored. */
export interface SignThreadData { armoredKey: string }
export interface SignRequest { id: number; bytes: Uint8Array }
export type SignReply = { id: number; signature: Uint8Array; error?: undefined } | { id: number; error: string; signature?: undefined };

/** A worker with nothing to sign for this long stops (its isolate and openpgp cost ~20 MB). */
const IDLE_STOP_MS = 30_000;

/**
 * Detached signatures of small outputs (reports, receipts) made on a worker thread: an RSA
 * 4096 signature costs ~5 ms of CPU, two per file, which under a burst took the event loop
 * from the SFTP sessions and the workflows (bench:burst, docs/engine.md). One worker per key,
 * started on first use, stopped when idle; if it fails, the signature is made on this thread.
 */
export class SignThread {
  private worker?: Worker;
  private lastId = 0;
  private readonly pending = new Map<number, { resolve(s: Uint8Array): void; reject(e: Error): void }>();
  private idleTimer?: NodeJS.Timeout;

  constructor(private readonly privateKey: openpgp.PrivateKey) {}

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    const worker = this.start();
    const id = ++this.lastId;
    clearTimeout(this.idleTimer);
    if (this.pending.size === 0) worker.ref();
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        worker.postMessage({ id, bytes } satisfies SignRequest);
      });
    } catch (err) {
      // The worker died or could not sign: the same signature, made here.
      if ((err as Error).name === 'SignThreadLost') return this.signHere(bytes);
      throw err;
    } finally {
      this.pending.delete(id);
      if (this.pending.size === 0 && this.worker) {
        this.worker.unref();
        this.idleTimer = setTimeout(() => void this.stop(), IDLE_STOP_MS).unref();
      }
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startModuleWorker(__filename, 'sign-thread-worker', { workerData: { armoredKey: this.privateKey.armor() } satisfies SignThreadData });
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      const err = Object.assign(new Error(`the signing worker stopped: ${why}`), { name: 'SignThreadLost' });
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    };
    worker.on('message', (reply: SignReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      if (reply.error !== undefined) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply.signature);
    });
    worker.on('error', (err: Error) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private async signHere(bytes: Uint8Array): Promise<Uint8Array> {
    const message = await openpgp.createMessage({ binary: bytes });
    return openpgp.sign({ message, signingKeys: this.privateKey, detached: true, format: 'binary' });
  }
}
