/**
 * The housekeeping job's deletions in the store's working tables (the queue, the events outbox
 * and its deliveries), a bounded chunk per call: each call is one short unit of work, so that a
 * first run on a big table never holds SQLite's single writer or PostgreSQL's row locks for long.
 * The journal (`files`, `file_events`) is the audit record: nothing here touches it.
 */

/** Where the previous chunk stopped: the (time, id) of the last row it examined. */
export interface ChunkCursor { at: number; id: number }

export interface ChunkRequest {
  /** Rows whose clock (the queue's updated_at, the event's at) is at or before this instant (epoch ms) are old enough. */
  upTo: number;
  /** Rows after this one; from the oldest when absent. */
  after?: ChunkCursor;
  /** At most this many rows examined. */
  limit: number;
  /** Count what would be deleted, delete nothing. */
  dryRun?: boolean;
}

export interface QueueChunk {
  /** Old `done` jobs examined, and deleted (or that would be under dryRun): the same number. */
  deleted: number;
  /** Where the next chunk starts; null when this one was the last. */
  next: ChunkCursor | null;
}

export interface EventChunk {
  /** Old routed events examined. */
  examined: number;
  /** Events deleted (or that would be): those whose every delivery was final (delivered or dead). */
  events: number;
  /** Their deliveries, deleted with them. */
  deliveries: number;
  /** Old events kept because a delivery of theirs is still pending, failed or leased. */
  kept: number;
  next: ChunkCursor | null;
}

export interface HousekeepingRepository {
  /** Unit of work: deletes up to `limit` queue jobs in state `done` last updated at or before `upTo`, oldest first (`dead` jobs stay). */
  deleteDoneJobs(request: ChunkRequest): Promise<QueueChunk>;
  /**
   * Unit of work: examines up to `limit` routed events at or before `upTo`, oldest first, and
   * deletes each whose deliveries are all final (`delivered` or `dead`, or which has none)
   * together with its deliveries. An unrouted event, or one with a pending, failed or leased
   * delivery, stays whatever its age; a delivery retried (`deliveries retry`) while its event is
   * being examined is either retried before (and its event kept) or not found after.
   */
  deleteFinishedEvents(request: ChunkRequest): Promise<EventChunk>;
}
