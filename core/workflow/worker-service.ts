import type { FluxgateConfig } from '../config/schema';
import { PROCESS_TOPIC } from '../intake/intake';
import type { Logger } from '../logging/logger';
import type { DurableQueue } from '../queue/queue';
import type { JournalRepository } from '../store/journal-repository';
import type { Service } from '../tokens';
import type { WorkflowRunner } from './runner';

/** On a graceful stop, files being processed get this long to finish before they are interrupted. */
const STOP_GRACE_MS = 5_000;

/** The queue workers: deliver `file.process` jobs to the workflow runner within the concurrency limits. */
export class WorkflowWorkers implements Service {
  readonly name = 'workflow-workers';
  private stopListening?: () => Promise<void>;

  constructor(
    private readonly queue: DurableQueue,
    private readonly runner: WorkflowRunner,
    private readonly journal: JournalRepository,
    private readonly config: FluxgateConfig,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const log = this.logger.child({ component: 'workflow' });
    // One node: no lease can belong to a live worker now, so jobs interrupted by a crash run again at once.
    const released = this.queue.repo.releaseAllLeases();
    const interrupted = this.journal.markInterrupted().length;
    // A live file always has a pending job; re-enqueue (dedup key = file id) in case one was lost.
    let requeued = 0;
    for (const f of this.journal.live()) {
      if (this.queue.enqueue(PROCESS_TOPIC, { fileId: f.id }, { key: f.id, accountId: f.accountId }).created) requeued++;
    }
    if (released || requeued || interrupted) log.info({ released, requeued, interrupted }, 'resuming files interrupted by a stop or crash');
    const engine = this.config.engine;
    this.stopListening = this.queue.listen<{ fileId: string }>(PROCESS_TOPIC,
      (job, signal) => this.runner.process(job.payload.fileId, job.attempts, job.maxAttempts, signal),
      { concurrency: engine.concurrency, leaseMs: engine.leaseMs, pollIntervalMs: engine.pollIntervalMs, graceMs: STOP_GRACE_MS });
  }

  async stop(): Promise<void> {
    await this.stopListening?.();
  }
}
