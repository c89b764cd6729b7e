import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe } from 'node:test';
import type { FluxgateError } from '../../core/errors';
import { leaseOf, type NewJob } from '../../core/store/ports/queue';
import type { PostgresStore } from '../../core/store/postgres/postgres-store';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';

// The queue, nodes and workflow versions through their ports (core/store/ports/queue.ts,
// nodes.ts, workflow-versions.ts), on both engines.
const pg = (e: EngineUnderTest): PostgresStore => e.store as PostgresStore;
const leaseLost = (err: unknown): boolean => (err as FluxgateError).code === 'FG_LEASE_LOST';
const job = (over: Partial<NewJob> = {}): NewJob => ({ topic: 'file', payload: { fileId: 'f1' }, maxAttempts: 5, ...over });

describe('store contract: queue, nodes, workflow versions', () => {
  bothEngines('insert: a live dedup key gives the live job back; once settled the key is free again', async (e) => {
    const q = pg(e).queue;
    const first = await q.insert(job({ dedupKey: 'file:f1', accountId: 'acme', runAt: 500 }), 100);
    assert.equal(first.created, true);
    assert.deepEqual({ ...first.job, id: 0 }, { id: 0, topic: 'file', dedupKey: 'file:f1', accountId: 'acme', payload: { fileId: 'f1' }, state: 'ready', runAt: 500,
      attempts: 0, maxAttempts: 5, leaseUntil: null, lastError: null, createdAt: 100, updatedAt: 100 });
    const again = await q.insert(job({ dedupKey: 'file:f1', payload: { other: true } }), 200);
    assert.deepEqual([again.created, again.job.id, again.job.payload], [false, first.job.id, { fileId: 'f1' }]);
    const [leased] = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 5, held: {}, now: 600 });
    assert.equal((await q.insert(job({ dedupKey: 'file:f1' }), 700)).created, false, 'a leased job holds its key too');
    await q.complete(leaseOf(leased), 800);
    assert.equal((await q.insert(job({ dedupKey: 'file:f1' }), 900)).created, true, 'a done job does not');
    assert.equal((await q.insert(job(), 900)).created, true, 'no key: always a new job');
    assert.equal(await q.get(99_999), undefined);
  });

  bothEngines('claim: due jobs, oldest first, up to max, within the per-account room counting what is held', async (e) => {
    const q = pg(e).queue;
    const a1 = (await q.insert(job({ accountId: 'a', runAt: 10 }))).job;
    const a2 = (await q.insert(job({ accountId: 'a', runAt: 20 }))).job;
    const b1 = (await q.insert(job({ accountId: 'b', runAt: 30 }))).job;
    const none = (await q.insert(job({ runAt: 40 }))).job;
    await q.insert(job({ accountId: 'b', runAt: 5_000 })); // not due
    await q.insert(job({ topic: 'other', runAt: 1 }));
    const got = await q.claim({ topic: 'file', leaseMs: 1_000, max: 10, perAccount: 2, held: { a: 1 }, now: 100 });
    assert.deepEqual(got.map((j) => j.id), [a1.id, b1.id, none.id], 'a2 would be the holder\'s third of account a');
    assert.deepEqual(got.map((j) => [j.state, j.attempts, j.leaseUntil, j.updatedAt]), [['leased', 1, 1_100, 100], ['leased', 1, 1_100, 100], ['leased', 1, 1_100, 100]]);
    assert.deepEqual((await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 5, held: {}, now: 100 })).map((j) => j.id), [a2.id]);
    assert.deepEqual(await q.claim({ topic: 'file', leaseMs: 1_000, max: 5, perAccount: 5, held: {}, now: 200 }), [], 'all leased, none expired');
    assert.deepEqual(await q.claim({ topic: 'file', leaseMs: 1_000, max: 0, perAccount: 5, held: {}, now: 5_000 }), []);
    // The holder of a1 dies: once its lease ran out, a1 is claimed again with a new token.
    const taken = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 5, held: {}, now: 1_101 });
    assert.deepEqual(taken.map((j) => [j.id, j.attempts]), [[a1.id, 2]]);
    assert.equal(await q.nextDue('file'), 5_000);
    assert.equal(await q.nextDue('nothing'), undefined);
    assert.deepEqual((await q.list({ state: 'leased' })).map((j) => j.id), [a1.id, a2.id, b1.id, none.id]);
    assert.deepEqual((await q.list({ topic: 'other' })).length, 1);
  });

  bothEngines('leases: renewed and settled by their holder only; a stale holder gets FG_LEASE_LOST and changes nothing', async (e) => {
    const q = pg(e).queue;
    const { job: j } = await q.insert(job({ runAt: 0 }), 0);
    const [first] = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 1, held: {}, now: 10 });
    const stale = leaseOf(first);
    assert.equal(await q.renew(stale, 1_000, 500), true);
    assert.equal((await q.get(j.id))!.leaseUntil, 1_500);
    assert.deepEqual(await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 1, held: {}, now: 1_200 }), [], 'renewed: not taken');
    const [second] = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 1, held: {}, now: 1_501 });
    const current = leaseOf(second);
    assert.equal(await q.renew(stale, 1_000, 1_600), false, 'taken over: the stale holder cannot renew');
    for (const settle of [() => q.complete(stale), () => q.reschedule(stale, 9, 'x'), () => q.postpone(stale, 9, 'x'), () => q.kill(stale, 'x')]) {
      await assert.rejects(settle(), leaseLost);
    }
    assert.deepEqual([(await q.get(j.id))!.state, (await q.get(j.id))!.attempts], ['leased', 2], 'nothing changed');

    await q.reschedule(current, 3_000, 'answered 500', 2_000);
    let now = (await q.get(j.id))!;
    assert.deepEqual([now.state, now.runAt, now.lastError, now.leaseUntil, now.maxAttempts], ['ready', 3_000, 'answered 500', null, 5]);
    await assert.rejects(q.complete(current), leaseLost, 'settled: its lease is gone');
    const [third] = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 1, held: {}, now: 3_000 });
    await q.postpone(leaseOf(third), 4_000, 'disk full', 3_100);
    now = (await q.get(j.id))!;
    assert.deepEqual([now.state, now.runAt, now.maxAttempts, now.attempts], ['ready', 4_000, 6, 3], 'the attempt given back');
    const [fourth] = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 1, held: {}, now: 4_000 });
    await q.kill(leaseOf(fourth), 'gave up', 4_100);
    assert.deepEqual([(await q.get(j.id))!.state, (await q.get(j.id))!.lastError], ['dead', 'gave up']);

    const { job: k } = await q.insert(job({ runAt: 0 }), 0);
    const [leased] = await q.claim({ topic: 'file', leaseMs: 60_000, max: 1, perAccount: 1, held: {}, now: 5_000 });
    assert.equal(leased.id, k.id);
    assert.equal(await q.releaseAllLeases(6_000), 1);
    assert.deepEqual([(await q.get(k.id))!.state, (await q.get(k.id))!.runAt], ['ready', 0]);
    await q.complete(leaseOf(leased)).then(() => assert.fail('released: not held'), (err: unknown) => assert.ok(leaseLost(err)));
  });

  bothEngines('two nodes claiming at once never lease the same job, and keep the per-account room', async (e) => {
    const node2 = (await e.another()) as PostgresStore;
    for (let i = 0; i < 60; i++) await pg(e).queue.insert(job({ accountId: `acct${i % 6}`, runAt: i }), 0);
    const claims = await Promise.all([pg(e), node2, pg(e), node2].map((s) => s.queue.claim({ topic: 'file', leaseMs: 60_000, max: 20, perAccount: 3, held: {}, now: 100 })));
    // A second round: what the first left (picks another holder took at the same instant) is taken now.
    claims.push(...await Promise.all([pg(e), node2].map((s) => s.queue.claim({ topic: 'file', leaseMs: 60_000, max: 60, perAccount: 10, held: {}, now: 100 }))));
    const ids = claims.flat().map((j) => j.id);
    assert.equal(new Set(ids).size, ids.length, 'no job claimed twice');
    for (const c of claims.slice(0, 4)) {
      const perAccount = new Map<string, number>();
      for (const j of c) perAccount.set(j.accountId!, (perAccount.get(j.accountId!) ?? 0) + 1);
      assert.ok([...perAccount.values()].every((n) => n <= 3), 'each holder within its room');
    }
    assert.equal(ids.length, 60, 'and every job claimed by someone');
    assert.ok(claims.slice(0, 4).every((c) => c.every((j) => j.attempts === 1)), 'one lease each');
  });

  bothEngines('nodes: started, beats, stopped; the jobs leased by this process', async (e) => {
    const nodes = pg(e).nodes;
    await nodes.started({ id: 'sftp-b', address: '0.0.0.0:2222', startedAt: 1_000 });
    await nodes.started({ id: 'sftp-a', address: '0.0.0.0:2222', startedAt: 1_000 });
    await nodes.beat('sftp-a', 6_000, 2);
    await nodes.stopped('sftp-b', 7_000);
    const [a, b] = await nodes.list();
    assert.deepEqual({ ...a, host: '', pid: 0 }, { id: 'sftp-a', address: '0.0.0.0:2222', host: '', pid: 0, startedAt: 1_000, heartbeatAt: 6_000, stoppedAt: null, filesInProgress: 2 });
    assert.equal(a.pid, process.pid);
    assert.deepEqual([b.id, b.stoppedAt, b.heartbeatAt, b.filesInProgress], ['sftp-b', 7_000, 7_000, 0]);
    await nodes.started({ id: 'sftp-b', address: '0.0.0.0:2223', startedAt: 9_000 });
    assert.deepEqual((await nodes.list()).map((n) => [n.id, n.address, n.stoppedAt, n.startedAt]), [['sftp-a', '0.0.0.0:2222', null, 1_000], ['sftp-b', '0.0.0.0:2223', null, 9_000]], 'a restart starts afresh');

    await pg(e).queue.insert(job({ runAt: 0 }), 0);
    await pg(e).queue.insert(job({ runAt: 0 }), 0);
    await pg(e).queue.claim({ topic: 'file', leaseMs: 1_000, max: 2, perAccount: 5, held: {}, now: 100 });
    await e.sql("UPDATE queue SET leased_host = 'elsewhere' WHERE id = (SELECT MIN(id) FROM queue)"); // another node's
    assert.equal(await nodes.leasedHere('file', 500), 1);
    assert.equal(await nodes.leasedHere('file', 2_000), 0, 'a lapsed lease is nobody\'s work');
  });

  bothEngines('workflow versions: the last good definition (saved once per content), statuses', async (e) => {
    const wv = pg(e).workflowVersions;
    await wv.saveGood('workflows/sal.yaml', 'sal', 'steps: [a]');
    const first = (await wv.lastGood('workflows/sal.yaml'))!;
    assert.equal(first.sha256, createHash('sha256').update('steps: [a]').digest('hex'));
    await wv.saveGood('workflows/sal.yaml', 'sal', 'steps: [a]');
    assert.equal((await wv.lastGood('workflows/sal.yaml'))!.savedAt, first.savedAt, 'the same content is not saved again');
    await wv.saveGood('workflows/sir.yaml', 'sir', 'steps: [b]');
    assert.deepEqual([...(await wv.allGood()).keys()], ['workflows/sal.yaml', 'workflows/sir.yaml']);
    assert.equal(await wv.lastGood('workflows/none.yaml'), undefined);

    await wv.setStatus('workflows/sal.yaml', { flux: 'sal', state: 'last-good', problem: 'line 3: bad key', goodSha256: first.sha256 });
    await wv.setStatus('workflows/new.yaml', { state: 'not-loaded', problem: 'line 1: not YAML' });
    const [fresh, sal] = await wv.statuses();
    assert.deepEqual([fresh.source, fresh.flux, fresh.state, fresh.goodSha256, fresh.goodSavedAt], ['workflows/new.yaml', null, 'not-loaded', null, null]);
    assert.deepEqual([sal.state, sal.problem, sal.goodSha256, sal.goodSavedAt], ['last-good', 'line 3: bad key', first.sha256, first.savedAt]);
    await wv.forget('workflows/new.yaml');
    assert.deepEqual((await wv.statuses()).map((s) => s.source), ['workflows/sal.yaml']);
  });
});
