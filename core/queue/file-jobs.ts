import type { JournalFile } from '../store/journal-repository';
import { FILE_PROCESS_TOPIC, type NewJob } from '../store/ports/queue';
import type { DurableQueue, JobHandler, ListenOptions } from './queue';

/** Queue topic of "run this journal file through its workflow" (payload `{ fileId }`). */
export const PROCESS_TOPIC = FILE_PROCESS_TOPIC;

export interface FileJobPayload { fileId: string }

/** What of a journal file decides its job: its id, its account, and what finds its workflow. */
export type QueuedFile = Pick<JournalFile, 'id' | 'accountId' | 'profile' | 'workflow' | 'originalPath'>;

/** Attempts a file gets before it is dead: its workflow's `retry.attempts`, else the engine's. */
export type AttemptLimit = (file: QueuedFile) => number;

/**
 * "Process this file": the one way a journal file gets its queue job, whoever asks (intake,
 * start-up recovery, replay), so that every file gets the attempts of its workflow. (Each used
 * to insert its own job: a replayed or recovered file got the engine's default instead.)
 * One job per file at a time: the file id is the job's de-duplication key.
 */
export class FileJobs {
  constructor(private readonly queue: DurableQueue, private readonly attempts: AttemptLimit) {}

  /**
   * The file's job, for a unit of work that inserts it with the journal's change (intake's
   * JournalRepository.recordUpload, replay's replayWithJob): call wake() after.
   */
  jobFor(file: QueuedFile): NewJob {
    return {
      topic: PROCESS_TOPIC, payload: { fileId: file.id } satisfies FileJobPayload, dedupKey: file.id,
      accountId: file.accountId, maxAttempts: this.attempts(file),
    };
  }

  /** Inserts the file's job, or nothing when it has one pending; true when inserted. */
  private async add(file: QueuedFile): Promise<boolean> {
    return (await this.queue.repo.insert(this.jobFor(file))).created;
  }

  /** Tells this process's workers that a job is due (another process's workers find it by polling). */
  wake(): void {
    this.queue.notify(PROCESS_TOPIC);
  }

  /** add() then wake(), outside any transaction. */
  async enqueue(file: QueuedFile): Promise<boolean> {
    const created = await this.add(file);
    if (created) this.wake();
    return created;
  }

  /** Delivers file jobs to `handler` (the workflow workers); returns the function that stops it. */
  listen(handler: JobHandler<FileJobPayload>, options: ListenOptions): () => Promise<void> {
    return this.queue.listen(PROCESS_TOPIC, handler, options);
  }

  /** Releases every lease of the queue: at a one-node start none can belong to a live worker (WorkflowWorkers). */
  releaseAllLeases(): Promise<number> {
    return this.queue.repo.releaseAllLeases();
  }
}
