import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import { parseConfig } from '../../core/config/load';
import { JobRegistry } from '../../core/cron/registry';
import { JobRunner } from '../../core/cron/runner';
import { silentLogger } from '../../core/logging/logger';
import { HousekeepingJob } from '../../core/retention/housekeeping-job';
import type { HousekeepingRepository } from '../../core/store/ports/housekeeping';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';

// The housekeeping job over the real store, chunk by chunk: what a run stopped with the server
// leaves, and the event loop between chunks (SQLite's statements are synchronous: without a turn
// of the loop between chunks, nothing else of the process would run until the job ended).
const DAY = 24 * 3600_000;
const NOW = 1_000 * DAY;

async function doneJobs(e: EngineUnderTest, n: number): Promise<void> {
  await e.sql(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
    INSERT INTO queue (topic, payload, state, run_at, attempts, max_attempts, created_at, updated_at)
    SELECT 'file.process', '{}', 'done', 0, 1, 5, 0, CAST(? AS BIGINT) + i FROM k`, [n, NOW - 30 * DAY]);
}

const left = async (e: EngineUnderTest): Promise<number> => Number((await e.sql<{ n: number }>('SELECT count(*) AS n FROM queue'))[0].n);

function runnerOf(e: EngineUnderTest, repo: HousekeepingRepository, chunkRows: number): JobRunner {
  return new JobRunner(new JobRegistry([new HousekeepingJob(parseConfig({}), repo, chunkRows)]), e.store.cronRuns, silentLogger());
}

describe('housekeeping job: chunks', () => {
  bothEngines('a run stopped part way ends `interrupted` after a whole chunk; the next run deletes the rest', async (e) => {
    await doneJobs(e, 95);
    const stop = new AbortController();
    let calls = 0;
    // The real repository; the server stops (the signal) while the third chunk runs.
    const repo: HousekeepingRepository = {
      deleteDoneJobs: async (r) => { if (++calls === 3) stop.abort(); return e.store.housekeeping.deleteDoneJobs(r); },
      deleteFinishedEvents: (r) => e.store.housekeeping.deleteFinishedEvents(r),
    };
    const first = await runnerOf(e, repo, 10).run('housekeeping', { asOf: NOW, signal: stop.signal });
    assert.equal(first.outcome, 'interrupted');
    assert.equal(first.counts.queueDeleted, 30, 'the chunk under way when the signal came is finished, none after it');
    assert.equal(await left(e), 65);
    assert.equal((await e.store.cronRuns.get(first.runId!))?.outcome, 'interrupted');

    const second = await runnerOf(e, e.store.housekeeping, 10).run('housekeeping', { asOf: NOW });
    assert.deepEqual([second.outcome, second.counts.queueDeleted], ['ok', 65]);
    assert.equal(await left(e), 0);
  });

  bothEngines('the event loop turns between chunks: setImmediate callbacks run while the job works', async (e) => {
    await doneJobs(e, 2_000);
    let turns = 0;
    let running = true;
    const tick = (): void => { if (running) { turns++; setImmediate(tick); } };
    setImmediate(tick);
    const run = await runnerOf(e, e.store.housekeeping, 100).run('housekeeping', { asOf: NOW });
    running = false;
    assert.equal(run.counts.queueDeleted, 2_000);
    // 21 chunks of the queue (the last one empty) and one of events: a turn after each but the last of each table.
    assert.ok(turns >= 20, `the loop turned ${turns} times during 21 chunks`);
  }, ['sqlite']);
});
