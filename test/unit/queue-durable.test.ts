import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isFluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { backoffDelay } from '../../core/queue/backoff';
import { DurableQueue, type Job } from '../../core/queue/queue';
import { openDatabase } from '../../core/store/database';
import { SqliteJournalRepository } from '../../core/store/journal-repository';
import { leaseOf, SqliteQueueRepository, type ClaimRequest } from '../../core/store/queue-repository';

const dir = mkdtempSync(join(tmpdir(), 'fg-queue-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const retry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 40, factor: 2 };
const fresh = () => new DurableQueue(new SqliteQueueRepository(openDatabase(join(dir, `q${n++}.db`))), retry, silentLogger());
const listenOpts = (global = 4, perAccount = 1, leaseMs = 60_000) => ({ concurrency: { global, perAccount }, leaseMs, pollIntervalMs: 20 });
const until = async (cond: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!await cond()) { if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 5)); }
};
/** One job of the topic, as a worker with nothing held claims it. */
const claimOne = async (q: DurableQueue, leaseMs: number, extra: Partial<ClaimRequest> = {}) =>
  (await q.repo.claim({ topic: 't', leaseMs, max: 1, perAccount: 1, held: {}, ...extra }))[0];
const state = async (q: DurableQueue, id: number) => (await q.repo.get(id))!.state;

describe('durable queue', () => {
  test('backoff grows by the factor and is capped', () => {
    assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(retry, a)), [10, 20, 40, 40]);
  });

  test('a dedup key makes a second enqueue a no-op while the first is pending', async () => {
    const q = fresh();
    const a = await q.enqueue('t', { x: 1 }, { key: 'k' });
    const b = await q.enqueue('t', { x: 2 }, { key: 'k' });
    assert.ok(a.created && !b.created);
    assert.equal(b.job.id, a.job.id);
    assert.equal((await q.repo.list({ topic: 't' })).length, 1);
  });

  test('a delayed job is not leased before its time', async () => {
    const q = fresh();
    await q.enqueue('t', {}, { delay: 60_000 });
    assert.equal(await claimOne(q, 1000), undefined);
    assert.ok(await claimOne(q, 1000, { now: Date.now() + 61_000 }));
  });

  test('a leased job is not leased twice until its lease expires', async () => {
    const q = fresh();
    await q.enqueue('t', {});
    const first = await claimOne(q, 1000);
    assert.ok(first);
    assert.equal(await claimOne(q, 1000), undefined);
    const again = await claimOne(q, 1000, { now: Date.now() + 2000 });
    assert.equal(again?.id, first.id);
    assert.equal(again?.attempts, 2);
  });

  test('one claim takes several jobs, never more of an account than the holder may hold', async () => {
    const q = fresh();
    for (const account of ['a', 'a', 'a', 'b', 'b', 'c']) await q.enqueue('t', {}, { accountId: account });
    const jobs = await q.repo.claim({ topic: 't', leaseMs: 1000, max: 10, perAccount: 2, held: { a: 1, c: 2 } });
    assert.deepEqual(jobs.map((j) => j.accountId).sort(), ['a', 'b', 'b'], 'a: one more (one held), b: two, c: none (two held)');
    assert.equal((await q.repo.claim({ topic: 't', leaseMs: 1000, max: 1, perAccount: 5, held: {} })).length, 1, 'max caps the claim');
  });

  test('a poll that finds nothing due does not wait for the write lock another connection holds', async () => {
    const file = join(dir, `q${n++}.db`);
    const q = new DurableQueue(new SqliteQueueRepository(openDatabase(file)), retry, silentLogger());
    await q.enqueue('t', {}, { delay: 60_000 });
    const writer = openDatabase(file);
    writer.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      assert.equal(await claimOne(q, 1000), undefined);
      // Taking the write lock would have waited out the 10 s busy timeout (and then failed).
      assert.ok(Date.now() - started < 2000, `the poll took ${Date.now() - started} ms`);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
    assert.ok(await claimOne(q, 1000, { now: Date.now() + 61_000 }));
  });

  test('a failing job is retried with backoff, then dead after the last attempt', async () => {
    const q = fresh();
    const seen: number[] = [];
    const stop = q.listen('t', (job) => { seen.push(job.attempts); return Promise.reject(new Error('boom')); }, listenOpts());
    const { job } = await q.enqueue('t', {}, { key: 'dies' });
    await until(async () => await state(q, job.id) === 'dead');
    await stop();
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal((await q.repo.get(job.id))!.lastError, 'boom');
    // Dead frees the key: the same key can be enqueued again.
    assert.ok((await q.enqueue('t', {}, { key: 'dies' })).created);
  });

  test('per-account and global concurrency limits hold; one busy account does not block others', async () => {
    const q = fresh();
    const running = new Map<string, number>();
    let maxGlobal = 0;
    const maxPer = new Map<string, number>();
    const order: string[] = [];
    const stop = q.listen<{ a: string }>('t', async (job: Job<{ a: string }>) => {
      const a = job.payload.a;
      running.set(a, (running.get(a) ?? 0) + 1);
      maxPer.set(a, Math.max(maxPer.get(a) ?? 0, running.get(a)!));
      maxGlobal = Math.max(maxGlobal, [...running.values()].reduce((x, y) => x + y, 0));
      order.push(a);
      await new Promise((r) => setTimeout(r, a === 'slow' ? 60 : 5));
      running.set(a, running.get(a)! - 1);
      return { status: 'done' };
    }, listenOpts(3, 2));
    for (let i = 0; i < 6; i++) await q.enqueue('t', { a: 'slow' }, { accountId: 'slow' });
    for (let i = 0; i < 4; i++) await q.enqueue('t', { a: 'fast' }, { accountId: 'fast' });
    await until(async () => (await q.repo.list({ state: 'done' })).length === 10);
    await stop();
    assert.equal(maxPer.get('slow'), 2);
    assert.ok(maxPer.get('fast')! <= 2);
    assert.ok(maxGlobal <= 3);
    // fast jobs were not all queued behind the six slow ones
    assert.ok(order.indexOf('fast') < order.lastIndexOf('slow'));
  });

  test('at start-up, leases of a crashed process are released at once', async () => {
    const q = fresh();
    await q.enqueue('t', {});
    assert.ok(await claimOne(q, 3_600_000));
    assert.equal(await claimOne(q, 1000), undefined);
    assert.equal(await q.repo.releaseAllLeases(), 1);
    assert.ok(await claimOne(q, 1000));
  });

  test('stop lets a running job finish within the grace period, and aborts one that outlasts it', async () => {
    const q = fresh();
    const { job: quick } = await q.enqueue('t', { ms: 30 }, { accountId: 'a' });
    const { job: slow } = await q.enqueue('t', { ms: 60_000 }, { accountId: 'b' });
    let aborted = false;
    const stop = q.listen<{ ms: number }>('t', (job, signal) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ status: 'done' }), job.payload.ms);
      signal.addEventListener('abort', () => { clearTimeout(timer); aborted = true; reject(new Error('aborted')); });
    }), { ...listenOpts(), graceMs: 200 });
    await until(async () => await state(q, slow.id) === 'leased' && await state(q, quick.id) !== 'ready');
    await stop();
    assert.equal(await state(q, quick.id), 'done');
    assert.ok(aborted);
    assert.equal(await state(q, slow.id), 'leased', 'an interrupted job is left for the next start, not failed');
    assert.equal(await q.repo.releaseAllLeases(), 1);
  });
});

describe('leases that expire: a dead holder\'s work is taken over, a stale holder finishes nothing', () => {
  test('a second holder on the same store takes over an expired lease; the stale holder\'s renewal, completion and journal finish are refused (FG_LEASE_LOST)', async () => {
    const file = join(dir, `q${n++}.db`);
    // Two holders on two connections to one database, as two nodes (or a restarted process) are.
    const stale = new DurableQueue(new SqliteQueueRepository(openDatabase(file)), retry, silentLogger());
    const db = openDatabase(file);
    const journal = new SqliteJournalRepository(db);
    const taker = new DurableQueue(new SqliteQueueRepository(db), retry, silentLogger());
    const row = (await journal.insert({
      accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/x.csv', name: 'x.csv',
      size: 1, sha1: 'a', sha256: 'b', location: join(dir, 'x.csv'),
    }))!;
    const { job } = await stale.enqueue('t', { fileId: row.id }, { accountId: 'acme', key: row.id });

    // The first holder leases it for 300 ms, starts the attempt, then stops beating (it died, or hung).
    const held = await claimOne(stale, 300);
    assert.equal(held.id, job.id);
    await journal.startAttempt(row.id, 1, 3, 'sal', { lease: leaseOf(held) });
    assert.equal(await claimOne(taker, 300), undefined, 'a live lease is not taken');
    await new Promise((r) => setTimeout(r, 350));

    // The second holder's worker takes the job over. While it holds the job, the stale holder
    // wakes up: nothing it does is recorded. Then the new holder finishes the file.
    const lost = (err: unknown) => isFluxgateError(err, 'FG_LEASE_LOST') && err.message.includes(`job ${job.id}`);
    const leases: number[] = [];
    const stop = taker.listen<{ fileId: string }>('t', async (j, _signal, lease) => {
      leases.push(lease.token);
      assert.equal(await stale.repo.renew(leaseOf(held), 300), false);
      await assert.rejects(journal.finish(row.id, 'dead', { result: 'dead', summary: 'stale' }, { lease: leaseOf(held) }), lost);
      await assert.rejects(stale.repo.complete(leaseOf(held)), lost);
      await assert.rejects(stale.repo.reschedule(leaseOf(held), Date.now(), 'stale'), lost);
      await assert.rejects(stale.repo.kill(leaseOf(held), 'stale'), lost);
      await journal.finish(j.payload.fileId, 'processed', { result: 'processed', summary: 'taken over' }, { lease });
      return { status: 'done' };
    }, listenOpts(1, 1, 1000));
    await until(async () => await state(taker, job.id) === 'done');
    await stop();
    assert.deepEqual(leases, [2], 'taken over as the second attempt, its checks passed');
    // Settled: a stale completion is refused all the same.
    await assert.rejects(stale.repo.complete(leaseOf(held)), lost);
    const file_ = (await journal.get(row.id))!;
    assert.deepEqual([file_.state, file_.outcome?.summary], ['processed', 'taken over']);
    assert.deepEqual((await journal.events(row.id)).map((e) => e.type), ['received', 'attempt', 'processed'], 'finished once');
    const finishedEvents = db.prepare(`SELECT count(*) FROM events WHERE type LIKE 'file.%' AND type <> 'file.received'`).pluck().get();
    assert.equal(finishedEvents, 1, 'one file.processed event, no file.dead');
    assert.equal(await state(taker, job.id), 'done');
  });

  test('a holder that finds its lease lost abandons the attempt (its signal aborts) and records nothing', async () => {
    const file = join(dir, `q${n++}.db`);
    const q = new DurableQueue(new SqliteQueueRepository(openDatabase(file)), retry, silentLogger());
    const otherDb = openDatabase(file);
    const other = new SqliteQueueRepository(otherDb);
    const { job } = await q.enqueue('t', {});
    let aborted = false;
    const stop = q.listen('t', (_job, signal) => new Promise((resolve) => {
      signal.addEventListener('abort', () => { aborted = true; resolve({ status: 'done' }); });
    }), listenOpts(1, 1, 600));
    await until(async () => await state(q, job.id) === 'leased');
    // Another holder takes the job over (its lease is forced to have run out).
    otherDb.prepare('UPDATE queue SET lease_until = 0 WHERE id = ?').run(job.id);
    const [taken] = await other.claim({ topic: 't', leaseMs: 60_000, max: 1, perAccount: 1, held: {} });
    assert.equal(taken.id, job.id);
    await until(() => aborted, 3000);
    await stop();
    const now = (await q.repo.get(job.id))!;
    assert.deepEqual([now.state, now.attempts], ['leased', 2], 'the first holder\'s "done" was not recorded: the job is the new holder\'s');
  });
});
