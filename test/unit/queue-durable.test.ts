import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../../core/logging/logger';
import { backoffDelay } from '../../core/queue/backoff';
import { DurableQueue, type Job } from '../../core/queue/queue';
import { openDatabase } from '../../core/store/database';
import { QueueRepository } from '../../core/store/queue-repository';

const dir = mkdtempSync(join(tmpdir(), 'fg-queue-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const retry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 40, factor: 2 };
const fresh = () => new DurableQueue(new QueueRepository(openDatabase(join(dir, `q${n++}.db`))), retry, silentLogger());
const listenOpts = (global = 4, perAccount = 1) => ({ concurrency: { global, perAccount }, leaseMs: 60_000, pollIntervalMs: 20 });
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 5)); }
};

describe('durable queue', () => {
  test('backoff grows by the factor and is capped', () => {
    assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(retry, a)), [10, 20, 40, 40]);
  });

  test('a dedup key makes a second enqueue a no-op while the first is pending', () => {
    const q = fresh();
    const a = q.enqueue('t', { x: 1 }, { key: 'k' });
    const b = q.enqueue('t', { x: 2 }, { key: 'k' });
    assert.ok(a.created && !b.created);
    assert.equal(b.job.id, a.job.id);
    assert.equal(q.repo.list({ topic: 't' }).length, 1);
  });

  test('a delayed job is not leased before its time', () => {
    const q = fresh();
    q.enqueue('t', {}, { delay: 60_000 });
    assert.equal(q.repo.lease('t', 1000, []), undefined);
    assert.ok(q.repo.lease('t', 1000, [], Date.now() + 61_000));
  });

  test('a leased job is not leased twice until its lease expires', () => {
    const q = fresh();
    q.enqueue('t', {});
    const first = q.repo.lease('t', 1000, []);
    assert.ok(first);
    assert.equal(q.repo.lease('t', 1000, []), undefined);
    const again = q.repo.lease('t', 1000, [], Date.now() + 2000);
    assert.equal(again?.id, first.id);
    assert.equal(again?.attempts, 2);
  });

  test('a poll that finds nothing due does not wait for the write lock another connection holds', () => {
    const file = join(dir, `q${n++}.db`);
    const q = new DurableQueue(new QueueRepository(openDatabase(file)), retry, silentLogger());
    q.enqueue('t', {}, { delay: 60_000 });
    const writer = openDatabase(file);
    writer.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      assert.equal(q.repo.lease('t', 1000, []), undefined);
      // Taking the write lock would have waited out the 10 s busy timeout (and then failed).
      assert.ok(Date.now() - started < 2000, `the poll took ${Date.now() - started} ms`);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
    assert.ok(q.repo.lease('t', 1000, [], Date.now() + 61_000));
  });

  test('a failing job is retried with backoff, then dead after the last attempt', async () => {
    const q = fresh();
    const seen: number[] = [];
    const stop = q.listen('t', (job) => { seen.push(job.attempts); return Promise.reject(new Error('boom')); }, listenOpts());
    const { job } = q.enqueue('t', {}, { key: 'dies' });
    await until(() => q.repo.get(job.id)!.state === 'dead');
    await stop();
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(q.repo.get(job.id)!.lastError, 'boom');
    // Dead frees the key: the same key can be enqueued again.
    assert.ok(q.enqueue('t', {}, { key: 'dies' }).created);
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
    for (let i = 0; i < 6; i++) q.enqueue('t', { a: 'slow' }, { accountId: 'slow' });
    for (let i = 0; i < 4; i++) q.enqueue('t', { a: 'fast' }, { accountId: 'fast' });
    await until(() => q.repo.list({ state: 'done' }).length === 10);
    await stop();
    assert.equal(maxPer.get('slow'), 2);
    assert.ok(maxPer.get('fast')! <= 2);
    assert.ok(maxGlobal <= 3);
    // fast jobs were not all queued behind the six slow ones
    assert.ok(order.indexOf('fast') < order.lastIndexOf('slow'));
  });

  test('at start-up, leases of a crashed process are released at once', () => {
    const q = fresh();
    q.enqueue('t', {});
    assert.ok(q.repo.lease('t', 3_600_000, []));
    assert.equal(q.repo.lease('t', 1000, []), undefined);
    assert.equal(q.repo.releaseAllLeases(), 1);
    assert.ok(q.repo.lease('t', 1000, []));
  });

  test('stop lets a running job finish within the grace period, and aborts one that outlasts it', async () => {
    const q = fresh();
    const { job: quick } = q.enqueue('t', { ms: 30 }, { accountId: 'a' });
    const { job: slow } = q.enqueue('t', { ms: 60_000 }, { accountId: 'b' });
    let aborted = false;
    const stop = q.listen<{ ms: number }>('t', (job, signal) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve({ status: 'done' }), job.payload.ms);
      signal.addEventListener('abort', () => { clearTimeout(timer); aborted = true; reject(new Error('aborted')); });
    }), { ...listenOpts(), graceMs: 200 });
    await until(() => q.repo.get(slow.id)!.state === 'leased' && q.repo.get(quick.id)!.state !== 'ready');
    await stop();
    assert.equal(q.repo.get(quick.id)!.state, 'done');
    assert.ok(aborted);
    assert.equal(q.repo.get(slow.id)!.state, 'leased', 'an interrupted job is left for the next start, not failed');
    assert.equal(q.repo.releaseAllLeases(), 1);
  });
});
