import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { PlannedDelivery } from '../../core/store/ports/events';
import { bothEngines } from '../helpers/postgres-contract';

// The events outbox and its deliveries through their interfaces, on SQLite and on PostgreSQL,
// and what a cluster needs of them: two nodes routing or claiming at once never double a delivery.
const planned = (dueAt: number): PlannedDelivery[] => [
  { subscription: 'webhook:a', channel: 'webhook', dueAt }, { subscription: 'email:b', channel: 'email', dueAt },
];

describe('store contract: events and deliveries', () => {
  bothEngines('events: recorded, listed by time, type, family and account, the latest `limit`', async ({ store }) => {
    const a = await store.events.record({ type: 'file.received', at: 1_000, account: 'acme', fileId: 'f1', flux: 'sal', name: 'a.csv', data: { size: 3 } });
    await store.events.record({ type: 'file.rejected', at: 2_000, account: 'acme', fileId: 'f1', code: 'FG_X', summary: 'bad' });
    await store.events.record({ type: 'account.disabled', at: 3_000, account: 'other' });
    assert.match(a, /^evt_19700101000001_[0-9a-f]{12}$/);
    const got = (await store.events.get(a))!;
    assert.deepEqual(got.event, { id: a, type: 'file.received', time: '1970-01-01T00:00:01.000Z', account: 'acme', fileId: 'f1', flux: 'sal', name: 'a.csv', data: { size: 3 } });
    assert.equal(got.at, 1_000);
    assert.equal(await store.events.get('evt_nope'), undefined);

    const types = async (q: Parameters<typeof store.events.list>[0]) => (await store.events.list(q)).map((e) => e.event.type);
    assert.deepEqual(await types({}), ['file.received', 'file.rejected', 'account.disabled'], 'oldest first');
    assert.deepEqual(await types({ type: 'file.*' }), ['file.received', 'file.rejected']);
    assert.deepEqual(await types({ type: 'file.rejected' }), ['file.rejected']);
    assert.deepEqual(await types({ account: 'other' }), ['account.disabled']);
    assert.deepEqual(await types({ since: 2_000 }), ['file.rejected', 'account.disabled']);
    assert.deepEqual(await types({ limit: 2 }), ['file.rejected', 'account.disabled'], 'the most recent two, oldest first');
    const rejected = (await store.events.list({ type: 'file.rejected' }))[0].event;
    assert.deepEqual([rejected.code, rejected.summary, rejected.flux], ['FG_X', 'bad', undefined]);
  });

  bothEngines('routing makes each delivery once and marks the event routed, whoever routes it', async (e) => {
    const id = await e.store.events.record({ type: 'key.expired', account: 'acme', at: 1_000 });
    const other = await e.store.events.record({ type: 'key.expired', account: 'acme', at: 1_001 });
    const unrouted = await e.store.events.unrouted();
    assert.deepEqual(unrouted.map((u) => u.event.id), [id, other]);
    assert.deepEqual((await e.store.events.unrouted(1)).map((u) => u.event.id), [id]);
    const node2 = await e.another();
    // Two routers (two nodes) route the same event at once.
    await Promise.all([
      e.store.events.route([{ event: unrouted[0], deliveries: planned(2_000) }], 1_500),
      node2.events.route([{ event: unrouted[0], deliveries: planned(2_000) }], 1_500),
    ]);
    await e.store.events.route([{ event: unrouted[0], deliveries: planned(2_000) }], 1_600);
    const made = await e.store.deliveries.list({ eventId: id });
    assert.deepEqual(made.map((d) => [d.subscription, d.channel, d.state, d.attempts, d.dueAt, d.retryFrom, d.createdAt]).sort(),
      [['email:b', 'email', 'pending', 0, 2_000, 1_500, 1_500], ['webhook:a', 'webhook', 'pending', 0, 2_000, 1_500, 1_500]]);
    assert.deepEqual((await e.store.events.unrouted()).map((u) => u.event.id), [other]);
    await e.store.events.route([{ event: unrouted[1], deliveries: [] }]);
    assert.deepEqual(await e.store.events.unrouted(), [], 'an event no subscription wants is routed too');
  });

  bothEngines('claims: due and unleased only, leased to one holder, results recorded only by the holder', async ({ store }) => {
    const { events, deliveries } = store;
    const id = await events.record({ type: 'key.expired', account: 'acme', at: 1_000 });
    await events.route([{ event: (await events.unrouted())[0], deliveries: planned(2_000) }], 1_000);
    assert.deepEqual(await deliveries.claim('node-a', 1_999, 10_000), [], 'not due yet');
    const mine = await deliveries.claim('node-a', 2_000, 10_000);
    assert.equal(mine.length, 2);
    assert.equal(mine[0].event.event.id, id);
    assert.equal(mine[0].delivery.leaseUntil, 12_000);
    assert.ok(mine[0].delivery.id < mine[1].delivery.id, 'in due order, then by id');
    assert.deepEqual(await deliveries.claim('node-b', 5_000, 10_000), [], 'leased: nobody else takes them');
    // node-a is presumed dead once its lease lapsed: node-b takes over; node-a's late answer is not recorded.
    const taken = await deliveries.claim('node-b', 12_001, 10_000);
    assert.equal(taken.length, 2);
    assert.equal(await deliveries.delivered(mine[0].delivery.id, 'node-a', 12_500, 204), false);
    assert.equal(await deliveries.delivered(taken[0].delivery.id, 'node-b', 12_600, 204), true);
    assert.equal(await deliveries.failed(taken[1].delivery.id, 'node-b', 12_700, { status: 500, error: 'answered 500', nextAt: 20_000 }), true);
    const [a, b] = [(await deliveries.get(taken[0].delivery.id))!, (await deliveries.get(taken[1].delivery.id))!];
    assert.deepEqual([a.state, a.attempts, a.deliveredAt, a.lastStatus, a.leaseUntil], ['delivered', 1, 12_600, 204, null]);
    assert.deepEqual([b.state, b.attempts, b.dueAt, b.lastStatus, b.lastError, b.updatedAt], ['failed', 1, 20_000, 500, 'answered 500', 12_700]);
    assert.deepEqual(await deliveries.claim('node-b', 19_999, 10_000), [], 'the retry waits for its time');
    assert.deepEqual((await deliveries.list({ state: 'failed' })).map((d) => d.id), [b.id]);
    assert.deepEqual((await deliveries.list()).map((d) => d.id), [b.id, a.id], 'newest first');
    assert.deepEqual((await deliveries.list({ limit: 1 })).map((d) => d.id), [b.id]);

    const again = (await deliveries.claim('node-c', 20_000, 10_000))[0];
    assert.equal(await deliveries.failed(again.delivery.id, 'node-c', 20_100, { status: null, error: 'refused', nextAt: null }), true);
    assert.equal((await deliveries.get(b.id))!.state, 'dead');
    await assert.rejects(deliveries.retry(a.id), (err: Error & { code?: string }) => err.code === 'FG_DELIVERY_STATE');
    await assert.rejects(deliveries.retry(99_999), (err: Error & { code?: string }) => err.code === 'FG_DELIVERY_NOT_FOUND');
    const retried = await deliveries.retry(b.id, 30_000);
    assert.deepEqual([retried.state, retried.dueAt, retried.retryFrom, retried.attempts], ['pending', 30_000, 30_000, 2]);

    const leased = await deliveries.claim('node-d', 30_000, 10_000);
    assert.equal(leased.length, 1);
    assert.equal(await deliveries.releaseAllLeases(), 1);
    assert.equal((await deliveries.claim('node-e', 30_001, 10_000)).length, 1, 'released: claimed again at once');
  });

  bothEngines('two nodes claiming at once never lease the same delivery', async (e) => {
    const node2 = await e.another();
    const subscriptions = Array.from({ length: 40 }, (_, i): PlannedDelivery => ({ subscription: `webhook:${i}`, channel: 'webhook', dueAt: 1_000 }));
    await e.store.events.record({ type: 'key.expired', account: 'acme', at: 1_000 });
    await e.store.events.route([{ event: (await e.store.events.unrouted())[0], deliveries: subscriptions }], 1_000);
    const claims = await Promise.all([
      ...[1, 2, 3].map((n) => e.store.deliveries.claim(`a${n}`, 2_000, 60_000, 7)),
      ...[1, 2, 3].map((n) => node2.deliveries.claim(`b${n}`, 2_000, 60_000, 7)),
    ]);
    const ids = claims.flat().map((c) => c.delivery.id);
    assert.equal(new Set(ids).size, ids.length, 'no delivery claimed twice');
    assert.equal(ids.length, 40, 'and all of them claimed: 6 claims of 7');
    for (const [i, claim] of claims.entries()) {
      for (const c of claim) assert.equal(c.delivery.leaseUntil, 62_000, `claim ${i}`);
    }
  });
});
