import type { FluxgateConfig } from '../config/schema';
import type { Logger } from '../logging/logger';
import type { FileJobs } from '../queue/file-jobs';
import type { JournalRepository } from '../store/ports/journal';
import type { Service } from '../tokens';
import type { WorkflowRunner } from './runner';

/** On a graceful stop, files being processed get this long to finish before they are interrupted. */
const STOP_GRACE_MS = 5_000;

/** The queue workers: deliver `file.process` jobs to the workflow runner within the concurrency limits. */
export class WorkflowWorkers implements Service {
  readonly name = 'workflow-workers';
  private stopListening?: () => Promise<void>;

  constructor(
    private readonly files: FileJobs,
    private readonly runner: WorkflowRunner,
    private readonly journal: JournalRepository,
    private readonly config: FluxgateConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.resumeInterrupted();
    const engine = this.config.engine;
    this.stopListening = this.files.listen(
      (job, signal, lease) => this.runner.process(job.payload.fileId, job.attempts, job.maxAttempts, signal, lease),
      { concurrency: engine.concurrency, leaseMs: engine.leaseMs, pollIntervalMs: engine.pollIntervalMs, graceMs: STOP_GRACE_MS });
  }

  async stop(): Promise<void> {
    await this.stopListening?.();
    // Files whose outputs are still being signed finish before the store closes.
    await this.runner.drain();
  }

  /**
   * Start-up recovery. One node (SQLite: the data-dir lock guarantees it): no lease can belong
   * to a live worker now, so jobs a stop or crash interrupted run again at once. Several nodes
   * on one store (store.url): only what this host's dead processes held is taken back; other
   * nodes' work is left alone, and a dead node of another host's leases run out (engine.leaseMs)
   * and are claimed as usual. The attempts cut short are recorded. A live file always has a
   * pending job: one is queued again (the file id is its key) in case it was lost, with its
   * workflow's attempts, as intake gives them.
   */
  private async resumeInterrupted(): Promise<void> {
    const { released, interrupted } = await this.takeBackDeadWork();
    let requeued = 0;
    for (const file of await this.journal.live()) if (await this.files.enqueue(file)) requeued++;
    if (released || requeued || interrupted) {
      this.logger.child({ component: 'workflow' }).info({ released, requeued, interrupted }, 'resuming files interrupted by a stop or crash');
    }
  }

  private async takeBackDeadWork(): Promise<{ released: number; interrupted: number }> {
    if (this.config.store.url !== undefined) {
      const dead = await this.journal.releaseDeadHolders();
      return { released: dead.released, interrupted: dead.interrupted.length };
    }
    const released = await this.files.releaseAllLeases();
    return { released, interrupted: (await this.journal.markInterrupted()).length };
  }
}
