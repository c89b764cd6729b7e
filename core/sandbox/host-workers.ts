import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../module-worker';
import type { Service } from '../tokens';
import type { HostWorkerData } from './host-worker';

/**
 * The engine's side of each run is a worker thread (host-worker.ts). Starting one and loading
 * its modules (the store's among them) took 0.15-0.25 s, and the sandbox, up sooner, waited for
 * it before it could ask for anything (a CPU profile of bench:sal's (s)). A server that runs
 * sandboxed plugins (SandboxHostWorkers, one of its services) keeps one started ahead, its
 * modules loaded, waiting for its run's data: a run takes it, and another is started when that
 * run ends. Elsewhere (`fluxgate plugin test`), and for runs at once, each run starts its own.
 */
class HostWorkers {
  private spare?: Worker;
  private keepSpare = false;

  /** A host worker for the run `data` describes: the spare if there is one. */
  take(data: HostWorkerData): Worker {
    const worker = this.spare;
    this.spare = undefined;
    if (!worker) return startModuleWorker(__filename, 'host-worker', { workerData: data });
    worker.ref();
    worker.postMessage(data);
    // The next one once this run is over: loading it now took CPU from this run (on two cores).
    worker.once('exit', () => this.prepare());
    return worker;
  }

  /** Keeps a spare from now on. */
  start(): void {
    this.keepSpare = true;
    this.prepare();
  }

  async stop(): Promise<void> {
    this.keepSpare = false;
    const spare = this.spare;
    this.spare = undefined;
    await spare?.terminate();
  }

  private prepare(): void {
    if (!this.keepSpare || this.spare) return;
    const worker = startModuleWorker(__filename, 'host-worker');
    worker.unref(); // waiting for a run keeps no process alive
    // One that fails before a run takes it is dropped: the next run starts its own (and sees why).
    const drop = () => { if (this.spare === worker) this.spare = undefined; };
    worker.once('error', drop).once('exit', drop);
    this.spare = worker;
  }
}

/** The process's host workers (sandboxed-handler.ts takes one per run). */
export const hostWorkers = new HostWorkers();

/** The service of a server with sandboxed plugins that keeps a host worker started ahead (HostWorkers). */
export class SandboxHostWorkers implements Service {
  readonly name = 'sandbox host workers';
  start(): void { hostWorkers.start(); }
  stop(): Promise<void> { return hostWorkers.stop(); }
}
