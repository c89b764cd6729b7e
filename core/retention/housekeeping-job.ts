import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FluxgateConfig } from '../config/schema';
import { DAY_MS, type Job, type JobContext } from '../cron/job';
import { FluxgateError } from '../errors';
import type { ChunkCursor, ChunkRequest, HousekeepingRepository } from '../store/ports/housekeeping';

/** Rows per unit of work, which is how long SQLite's single writer or PostgreSQL's row locks are held at a time (bench:housekeeping). */
export const HOUSEKEEPING_CHUNK_ROWS = 1_000;

const iso = (t: number): string => new Date(t).toISOString();

/**
 * Keeps the store's working tables from growing without bound: deletes `done` queue jobs
 * older than `retention.queueDoneDays` (7) and events older than `retention.eventDays` (90)
 * with their deliveries, once every delivery of the event is final. `dead` jobs and events
 * still being delivered stay; the journal (`files`, `file_events`) is the audit record and is
 * never touched. Works in chunks, each its own short transaction, the event loop free between
 * them, so a first run on a table of millions of rows holds nothing for long; a run stopped
 * part way (the server stopping) simply leaves the rest to the next one.
 */
export class HousekeepingJob implements Job {
  readonly name = 'housekeeping' as const;
  readonly description: string;

  constructor(
    private readonly config: FluxgateConfig,
    private readonly repo: HousekeepingRepository,
    private readonly chunkRows = HOUSEKEEPING_CHUNK_ROWS,
  ) {
    const { queueDoneDays, eventDays } = config.retention;
    this.description = `deletes done queue jobs after ${queueDoneDays} days, events and their deliveries after ${eventDays} once all are delivered or dead`;
  }

  async run(ctx: JobContext): Promise<void> {
    const { queueDoneDays, eventDays } = this.config.retention;
    // The summary's counts, in this order, zero when nothing went.
    for (const key of ['queueDeleted', 'eventsDeleted', 'deliveriesDeleted', 'eventsKept']) ctx.counts.add(key, 0);
    await this.queue(ctx, ctx.asOf - queueDoneDays * DAY_MS, queueDoneDays);
    await this.events(ctx, ctx.asOf - eventDays * DAY_MS, eventDays);
  }

  private async queue(ctx: JobContext, upTo: number, days: number): Promise<void> {
    let deleted = 0;
    await this.chunks(ctx, 'queue', upTo, async (request) => {
      const chunk = await this.repo.deleteDoneJobs(request);
      deleted += chunk.deleted;
      ctx.counts.add('queueDeleted', chunk.deleted);
      return chunk.next;
    });
    if (deleted > 0) {
      ctx.record({ action: 'delete-rows', target: 'queue', rule: 'queue-done', detail: { rows: deleted, state: 'done', updatedUpTo: iso(upTo), days } });
    }
  }

  private async events(ctx: JobContext, upTo: number, days: number): Promise<void> {
    const total = { events: 0, deliveries: 0, kept: 0 };
    await this.chunks(ctx, 'events', upTo, async (request) => {
      const chunk = await this.repo.deleteFinishedEvents(request);
      total.events += chunk.events;
      total.deliveries += chunk.deliveries;
      total.kept += chunk.kept;
      ctx.counts.add('eventsDeleted', chunk.events);
      ctx.counts.add('deliveriesDeleted', chunk.deliveries);
      ctx.counts.add('eventsKept', chunk.kept);
      return chunk.next;
    });
    if (total.events > 0) {
      ctx.record({
        action: 'delete-rows', target: 'events', rule: 'event-age',
        detail: { rows: total.events, deliveries: total.deliveries, keptUndelivered: total.kept, atUpTo: iso(upTo), days },
      });
    }
  }

  /**
   * Runs `step` chunk after chunk until it returns no cursor, yielding to the event loop between
   * chunks. A failed chunk ends this table's pass (recorded; the next run retries from the start).
   */
  private async chunks(ctx: JobContext, table: string, upTo: number, step: (r: ChunkRequest) => Promise<ChunkCursor | null>): Promise<void> {
    let after: ChunkCursor | undefined;
    for (let n = 1; ; n++) {
      if (ctx.signal.aborted) return;
      try {
        const started = performance.now();
        const next = await step({ upTo, after, limit: this.chunkRows, dryRun: ctx.dryRun });
        ctx.logger.debug({ table, chunk: n, ms: Math.round(performance.now() - started) }, 'housekeeping chunk done');
        if (next === null) return;
        after = next;
      } catch (err) {
        ctx.fail(table, chunkFailure(err, table, n));
        return;
      }
      await nextTurn();
    }
  }
}

/**
 * A store error keeps its own code (FG_STORE_UNREACHABLE…); anything else the database threw
 * (SQLite busy past its timeout, a constraint) becomes FG_HOUSEKEEPING, saying where and what now.
 */
function chunkFailure(err: unknown, table: string, chunk: number): unknown {
  if (err instanceof FluxgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FluxgateError('FG_HOUSEKEEPING',
    `housekeeping could not delete chunk ${chunk} of old ${table} rows (${message}): the chunks before it stay deleted, `
    + 'the rest is left to the next run (or `fluxgate jobs run housekeeping`)', { table, chunk }, { cause: err });
}
