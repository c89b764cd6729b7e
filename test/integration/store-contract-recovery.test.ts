import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe } from 'node:test';
import type { FluxgateError } from '../../core/errors';
import type { NewJournalFile } from '../../core/store/journal-types';
import { FILE_PROCESS_TOPIC, leaseOf, type Job, type NewJob } from '../../core/store/ports/queue';
import type { Store } from '../../core/store/ports/store';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';

// Start-up recovery when several nodes share the store (JournalRepository.releaseDeadHolders):
// a starting node takes back only what this host's dead processes held, on both engines.
const code = (c: string) => (err: unknown): boolean => (err as FluxgateError).code === c;
const upload = (name: string): NewJournalFile => ({
  accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: `in/sal/${name}`, name, size: 3,
  sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: `/data/sftp/acme/in/sal/${name}`,
});
const jobOf = (fileId: string): NewJob => ({ topic: FILE_PROCESS_TOPIC, payload: { fileId }, maxAttempts: 5, dedupKey: fileId, accountId: 'acme' });
const LEASE_MS = 30_000;

/** A pid of this host that no process has any more: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.ok(child.pid);
  return child.pid;
}

/**
 * Node A (the store under test) receives a file, claims its job at `now` and starts its attempt;
 * then the lease's recorded holder is set to (pid, host), as if another process had claimed it.
 */
async function nodeAIsProcessing(e: EngineUnderTest, holder: { pid: number; host: string }, now = 1_000): Promise<{ fileId: string; job: Job }> {
  const a = e.store;
  const file = (await a.journal.insert(upload('a.csv'), now))!;
  await a.queue.insert(jobOf(file.id), now);
  const [job] = await a.queue.claim({ topic: FILE_PROCESS_TOPIC, leaseMs: LEASE_MS, max: 1, perAccount: 1, held: {}, now });
  await a.journal.startAttempt(file.id, job.attempts, 5, 'sal', { lease: leaseOf(job) });
  await e.sql('UPDATE queue SET leased_pid = ?, leased_host = ? WHERE id = ?', [holder.pid, holder.host, job.id]);
  return { fileId: file.id, job };
}

async function processedEvents(store: Store, fileId: string): Promise<number> {
  return (await store.events.list({ type: 'file.processed' })).filter((e) => e.event.fileId === fileId).length;
}

describe('store contract: start-up recovery of a node among several', () => {
  bothEngines('a live holder of this host (another process, or this one): its lease and file are left alone', async (e) => {
    for (const pid of [process.ppid, process.pid]) {
      await e.sql('DELETE FROM queue');
      await e.sql('DELETE FROM file_events');
      await e.sql('DELETE FROM files');
      const { fileId, job } = await nodeAIsProcessing(e, { pid, host: hostname() });
      const nodeB = await e.another();
      assert.deepEqual(await nodeB.journal.releaseDeadHolders(2_000), { released: 0, interrupted: [] }, `holder pid ${pid}`);
      const after = (await nodeB.queue.get(job.id))!;
      assert.deepEqual([after.state, after.attempts, after.leaseUntil], ['leased', 1, 1_000 + LEASE_MS], 'the lease untouched');
      assert.equal((await nodeB.journal.get(fileId))!.state, 'processing', 'the file untouched');
      assert.equal((await nodeB.journal.events(fileId)).some((ev) => ev.type === 'interrupted'), false);
    }
  });

  bothEngines('a dead process of this host: a starting node takes its lease and file at once, and its late completion is refused', async (e) => {
    const { fileId, job } = await nodeAIsProcessing(e, { pid: deadPid(), host: hostname() });
    const { job: other } = await e.store.queue.insert({ topic: 'events.deliver', payload: { fileId }, maxAttempts: 3 }, 1_000);
    const [otherLeased] = await e.store.queue.claim({ topic: 'events.deliver', leaseMs: LEASE_MS, max: 1, perAccount: 1, held: {}, now: 1_000 });
    await e.sql('UPDATE queue SET leased_pid = ?, leased_host = ? WHERE id = ?', [deadPid(), hostname(), other.id]);

    const nodeB = await e.another();
    const taken = await nodeB.journal.releaseDeadHolders(2_000);
    assert.equal(taken.released, 2, 'every dead holder\'s lease, whatever its topic');
    assert.deepEqual(taken.interrupted.map((f) => [f.id, f.state]), [[fileId, 'processing']], 'only the file of its file.process job, as it was');
    assert.deepEqual([(await nodeB.queue.get(otherLeased.id))!.state, (await nodeB.queue.get(job.id))!.state], ['ready', 'ready']);
    const file = (await nodeB.journal.get(fileId))!;
    assert.equal(file.state, 'failed');
    const interrupted = (await nodeB.journal.events(fileId)).at(-1)!;
    assert.deepEqual([interrupted.type, interrupted.detail.attempt], ['interrupted', 1]);
    assert.deepEqual(await nodeB.journal.releaseDeadHolders(2_500), { released: 0, interrupted: [] }, 'a second start takes nothing more');

    // Well before A's lease would have run out, B claims the job and finishes the file, once.
    const [again] = await nodeB.queue.claim({ topic: FILE_PROCESS_TOPIC, leaseMs: LEASE_MS, max: 1, perAccount: 1, held: {}, now: 2_000 });
    assert.deepEqual([again.id, again.attempts], [job.id, 2]);
    await assert.rejects(e.store.journal.finish(fileId, 'processed', { result: 'processed' }, { lease: leaseOf(job) }), code('FG_LEASE_LOST'));
    await nodeB.journal.startAttempt(fileId, again.attempts, 5, 'sal', { lease: leaseOf(again) });
    await nodeB.journal.finish(fileId, 'processed', { result: 'processed' }, { lease: leaseOf(again) });
    await nodeB.queue.complete(leaseOf(again));
    await assert.rejects(e.store.queue.complete(leaseOf(job)), code('FG_LEASE_LOST'));
    assert.equal(await processedEvents(nodeB, fileId), 1, 'processed once');
  });

  bothEngines('a holder on another host: left to its lease; claimed once it runs out, and the late holder is refused', async (e) => {
    const { fileId, job } = await nodeAIsProcessing(e, { pid: deadPid(), host: 'node-a.invalid' });
    const nodeB = await e.another();
    assert.deepEqual(await nodeB.journal.releaseDeadHolders(2_000), { released: 0, interrupted: [] }, 'its liveness cannot be checked from here');
    assert.deepEqual([(await nodeB.queue.get(job.id))!.state, (await nodeB.journal.get(fileId))!.state], ['leased', 'processing']);
    const claim = (now: number) => nodeB.queue.claim({ topic: FILE_PROCESS_TOPIC, leaseMs: LEASE_MS, max: 1, perAccount: 1, held: {}, now });
    assert.deepEqual(await claim(1_000 + LEASE_MS), [], 'not before its lease runs out');
    const [takeover] = await claim(1_001 + LEASE_MS);
    assert.deepEqual([takeover.id, takeover.attempts], [job.id, 2]);

    // The file is still `processing` under A's attempt: B's attempt takes it over, and says so.
    const started = await nodeB.journal.startAttempt(fileId, takeover.attempts, 5, 'sal', { lease: leaseOf(takeover) });
    assert.deepEqual([started.state, started.attempts], ['processing', 2]);
    const types = (await nodeB.journal.events(fileId)).map((ev) => ev.type);
    assert.deepEqual(types.slice(-2), ['interrupted', 'attempt'], 'the attempt taken over is recorded before the new one');
    await assert.rejects(e.store.journal.finish(fileId, 'processed', { result: 'processed' }, { lease: leaseOf(job) }), code('FG_LEASE_LOST'));
    await assert.rejects(e.store.queue.complete(leaseOf(job)), code('FG_LEASE_LOST'));
    await nodeB.journal.finish(fileId, 'processed', { result: 'processed' }, { lease: leaseOf(takeover) });
    await nodeB.queue.complete(leaseOf(takeover));
    assert.deepEqual([(await nodeB.journal.get(fileId))!.state, await processedEvents(nodeB, fileId)], ['processed', 1], 'processed once');
  });
});
