import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import { hostname } from 'node:os';
import type { FluxgateError } from '../../core/errors';
import { bothEngines } from '../helpers/postgres-contract';

// Job runs and their locks through CronRepository, on SQLite and on PostgreSQL, and what a
// cluster needs: two nodes beginning the same job at once get one run; the run of a node that
// died is taken over, and recorded as interrupted.
const isJobRunning = (err: unknown): boolean => (err as FluxgateError).code === 'FG_JOB_RUNNING';
const isSlotTaken = (err: unknown): boolean => (err as FluxgateError).code === 'FG_JOB_SLOT_TAKEN';
/** 02:00 UTC on a day: the instant a schedule fired for. */
const SLOT = Date.UTC(2026, 11, 7, 2, 0);

describe('store contract: job runs', () => {
  bothEngines('begin, finish, history; a job runs once at a time', async ({ store }) => {
    const runs = store.cronRuns;
    const first = await runs.begin('retention', 500, 1_000);
    assert.deepEqual({ ...first, id: 0 }, { id: 0, job: 'retention', startedAt: 1_000, endedAt: null, outcome: 'running', dryRun: false, asOf: 500, counts: {}, error: null,
      slot: null, host: hostname(), pid: process.pid });
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

  // Issue #20: each scheduled job runs once per cluster per schedule. Two stores on one database
  // are two nodes (SQLite: two processes on one file).
  bothEngines('two nodes beginning the same job and slot at once: exactly one run, the other told it was taken', async (e) => {
    const node2 = await e.another();
    const node3 = await e.another();
    const results = await Promise.allSettled([e.store, node2, node3].flatMap((s) => [s.cronRuns.begin('retention', SLOT, SLOT + 5, SLOT), s.cronRuns.begin('retention', SLOT, SLOT + 5, SLOT)]));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, 'one begin wins');
    for (const r of lost) assert.ok(isSlotTaken(r.reason), `the slot is taken, not merely locked: ${String(r.reason)}`);
    const runs = await e.store.cronRuns.runs('retention');
    assert.deepEqual(runs.map((r) => [r.id, r.slot]), [[won[0].value.id, SLOT]], 'one run recorded, for that slot');
    await e.store.cronRuns.finish(won[0].value.id, 'ok', {});
  });

  bothEngines('a late node beginning a slot already run (whatever its outcome) is refused; the next slot and manual runs run', async (e) => {
    const late = await e.another();
    const first = await e.store.cronRuns.begin('retention', SLOT, SLOT + 5, SLOT);
    await assert.rejects(late.cronRuns.begin('retention', SLOT, SLOT + 60_000, SLOT), (err: Error) => isSlotTaken(err)
      && err.message.includes(`job retention was already run by ${hostname()} (pid ${process.pid}) for 2026-12-07T02:00:00.000Z (run ${first.id}, still running)`), 'while it runs');
    await e.store.cronRuns.finish(first.id, 'failed', { errors: 1 }, 'one item failed', SLOT + 10);
    await assert.rejects(late.cronRuns.begin('retention', SLOT, SLOT + 120_000, SLOT), (err: Error) => isSlotTaken(err) && /\(run \d+, failed\)/.test(err.message),
      'after it ended, even failed: the next slot retries');
    await assert.rejects(e.store.cronRuns.begin('retention', SLOT, SLOT + 120_000, SLOT), isSlotTaken, 'the node that ran it too (restarted)');
    const otherJob = await late.cronRuns.begin('key-expiry', SLOT, SLOT + 20, SLOT);
    await late.cronRuns.finish(otherJob.id, 'ok', {});
    const next = await late.cronRuns.begin('retention', SLOT + 86_400_000, SLOT + 86_400_000, SLOT + 86_400_000);
    assert.equal(next.slot, SLOT + 86_400_000);
    await late.cronRuns.finish(next.id, 'ok', {});
    const manual1 = await late.cronRuns.begin('retention', SLOT, SLOT + 90_000_000);
    await late.cronRuns.finish(manual1.id, 'ok', {});
    const manual2 = await e.store.cronRuns.begin('retention', SLOT, SLOT + 90_000_100);
    await e.store.cronRuns.finish(manual2.id, 'ok', {});
    assert.deepEqual((await e.store.cronRuns.runs('retention')).map((r) => [r.slot, r.outcome]),
      [[null, 'ok'], [null, 'ok'], [SLOT + 86_400_000, 'ok'], [SLOT, 'failed']], 'one run per slot; manual runs have none');
  });

  bothEngines('a slot whose begin found the job locked (a long run of the previous slot) is not consumed', async (e) => {
    const other = await e.another();
    const long = await e.store.cronRuns.begin('retention', SLOT, SLOT, SLOT);
    await assert.rejects(other.cronRuns.begin('retention', SLOT + 60_000, SLOT + 60_000, SLOT + 60_000), isJobRunning);
    assert.deepEqual((await e.store.cronRuns.runs('retention')).map((r) => r.slot), [SLOT], 'the refused begin recorded nothing');
    await e.store.cronRuns.finish(long.id, 'ok', {});
    const later = await other.cronRuns.begin('retention', SLOT + 60_000, SLOT + 61_000, SLOT + 60_000);
    await other.cronRuns.finish(later.id, 'ok', {});
  });
});
