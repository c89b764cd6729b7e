import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { FluxgateError } from '../../core/errors';
import { bothEngines } from '../helpers/postgres-contract';

// Job runs and their locks through CronRepository, on SQLite and on PostgreSQL, and what a
// cluster needs: two nodes beginning the same job at once get one run; the run of a node that
// died is taken over, and recorded as interrupted.
const isJobRunning = (err: unknown): boolean => (err as FluxgateError).code === 'FG_JOB_RUNNING';

describe('store contract: job runs', () => {
  bothEngines('begin, finish, history; a job runs once at a time', async ({ store }) => {
    const runs = store.cronRuns;
    const first = await runs.begin('retention', 500, 1_000);
    assert.deepEqual({ ...first, id: 0 }, { id: 0, job: 'retention', startedAt: 1_000, endedAt: null, outcome: 'running', dryRun: false, asOf: 500, counts: {}, error: null });
    await assert.rejects(runs.begin('retention', 600, 1_100), (err: Error) => isJobRunning(err) && /job retention is already running \(run \d+/.test(err.message));
    const other = await runs.begin('key-expiry', 600, 1_200);
    await runs.finish(first.id, 'failed', { deleted: 3, errors: 1 }, 'one item failed', 2_000);
    assert.deepEqual(await runs.get(first.id), { ...first, endedAt: 2_000, outcome: 'failed', counts: { deleted: 3, errors: 1 }, error: 'one item failed' });
    const second = await runs.begin('retention', 700, 3_000);
    await runs.finish(second.id, 'ok', { deleted: 1 }, null, 3_500);
    await runs.finish(other.id, 'ok', {}, null, 3_600);
    assert.deepEqual((await runs.runs('retention')).map((r) => [r.id, r.outcome]), [[second.id, 'ok'], [first.id, 'failed']], 'newest first');
    assert.deepEqual((await runs.runs('retention', 1)).map((r) => r.id), [second.id]);
    assert.equal((await runs.lastRun('retention'))?.id, second.id);
    assert.equal(await runs.lastRun('account-inactivity'), undefined);
    assert.equal(await runs.get(99_999), undefined);
    assert.equal(await runs.reapInterrupted(4_000), 0, 'nothing to reap: every run ended');
  });

  bothEngines('two nodes beginning the same job at once: exactly one run', async (e) => {
    const node2 = await e.another();
    const node3 = await e.another();
    const results = await Promise.allSettled([e.store, node2, node3].flatMap((s) => [s.cronRuns.begin('retention', 1_000, 1_000), s.cronRuns.begin('retention', 1_000, 1_000)]));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, 'one begin wins');
    assert.equal(lost.length, 5);
    for (const r of lost) assert.ok(isJobRunning(r.reason), String(r.reason));
    assert.equal((await e.store.cronRuns.runs('retention')).length, 1, 'one run recorded');
  });

  bothEngines('a node that dies mid-run: its lock is free at once, its run recorded interrupted by the next begin', async (e) => {
    const doomed = await e.another();
    const run = await doomed.cronRuns.begin('retention', 1_000, 1_000);
    await assert.rejects(e.store.cronRuns.begin('retention', 2_000, 2_000), isJobRunning, 'held while its node lives');
    await (doomed as unknown as { close(): Promise<void> }).close(); // the node's connections end as when it dies
    const next = await e.store.cronRuns.begin('retention', 3_000, 3_000);
    const old = (await e.store.cronRuns.get(run.id))!;
    assert.deepEqual([old.outcome, old.endedAt], ['interrupted', 3_000]);
    assert.match(old.error ?? '', /stopped before it finished/);
    await e.store.cronRuns.finish(next.id, 'ok', {});
  }, ['postgres']);

  bothEngines('reapInterrupted: runs of dead nodes are interrupted, live ones (this node\'s, another\'s) left running', async (e) => {
    const alive = await e.another();
    const doomed = await e.another();
    const mine = await e.store.cronRuns.begin('key-expiry', 1_000, 1_000);
    const theirs = await alive.cronRuns.begin('account-inactivity', 1_000, 1_000);
    const dead = await doomed.cronRuns.begin('retention', 1_000, 1_000);
    await (doomed as unknown as { close(): Promise<void> }).close();
    assert.equal(await e.store.cronRuns.reapInterrupted(5_000), 1);
    assert.deepEqual([(await e.store.cronRuns.get(dead.id))!.outcome, (await e.store.cronRuns.get(dead.id))!.endedAt], ['interrupted', 5_000]);
    assert.equal((await e.store.cronRuns.get(mine.id))!.outcome, 'running');
    assert.equal((await e.store.cronRuns.get(theirs.id))!.outcome, 'running');
    await assert.rejects(e.store.cronRuns.begin('account-inactivity', 6_000, 6_000), isJobRunning, 'the live node still holds its job');
    const retention = await e.store.cronRuns.begin('retention', 6_000, 6_000);
    await e.store.cronRuns.finish(retention.id, 'ok', {});
    await e.store.cronRuns.finish(mine.id, 'ok', {});
    await alive.cronRuns.finish(theirs.id, 'ok', {});
  }, ['postgres']);

  bothEngines('a node cut off from PostgreSQL (its lock connection ended by the server) no longer holds its job', async (e) => {
    const cutOff = await e.another();
    const run = await cutOff.cronRuns.begin('retention', 1_000, 1_000);
    await assert.rejects(e.store.cronRuns.begin('retention', 2_000, 2_000), isJobRunning);
    // Waits (up to 5 s) for that backend to have exited, and so released its locks.
    const [{ n }] = await e.sql<{ n: number }>(`SELECT count(pg_terminate_backend(pid, 5000)) AS n FROM pg_stat_activity
      WHERE application_name = 'fluxgate job lock' AND datname = current_database()`);
    assert.equal(Number(n), 1, 'one connection holds a job lock');
    const next = await e.store.cronRuns.begin('retention', 3_000, 3_000);
    assert.equal((await e.store.cronRuns.get(run.id))!.outcome, 'interrupted');
    await e.store.cronRuns.finish(next.id, 'ok', {});
  }, ['postgres']);
});
