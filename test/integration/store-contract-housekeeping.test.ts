import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { FluxgateError } from '../../core/errors';
import type { ChunkCursor, ChunkRequest, EventChunk } from '../../core/store/ports/housekeeping';
import type { PlannedDelivery } from '../../core/store/ports/events';
import { leaseOf } from '../../core/store/ports/queue';
import type { PostgresStore } from '../../core/store/postgres/postgres-store';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';

// The housekeeping job's deletions (core/store/ports/housekeeping.ts) on both engines: which
// queue jobs, events and deliveries go, which stay, and the chunks' cursor.

/** A queue row in any state, last updated at `updatedAt`; returns its id. */
async function queueRow(e: EngineUnderTest, state: string, updatedAt: number): Promise<number> {
  const [row] = await e.sql<{ id: number }>(`INSERT INTO queue (topic, payload, state, run_at, attempts, max_attempts, created_at, updated_at)
    VALUES ('file.process', '{}', ?, ?, 1, 5, ?, ?) RETURNING id`, [state, updatedAt, updatedAt, updatedAt]);
  return Number(row.id);
}

const queueIds = async (e: EngineUnderTest): Promise<number[]> =>
  (await e.sql<{ id: number }>('SELECT id FROM queue ORDER BY id')).map((r) => Number(r.id));

const subscriptions = (n: number, dueAt: number): PlannedDelivery[] =>
  Array.from({ length: n }, (_, i) => ({ subscription: `webhook:s${i}`, channel: 'webhook' as const, dueAt }));

/** An event at `at`, routed to one delivery per state given (none: routed to nobody); returns its id. */
async function eventWith(e: EngineUnderTest, at: number, states: string[] | 'unrouted'): Promise<string> {
  const id = await e.store.events.record({ type: 'key.expired', account: 'acme', at });
  if (states === 'unrouted') return id;
  const event = (await e.store.events.get(id))!;
  await e.store.events.route([{ event, deliveries: subscriptions(states.length, at) }], at);
  for (const [i, state] of states.entries()) {
    const lease = state === 'leased' ? { lease_until: at + 60_000, lease_holder: 'node-a' } : { lease_until: null, lease_holder: null };
    await e.sql('UPDATE deliveries SET state = ?, lease_until = ?, lease_holder = ? WHERE event_id = ? AND subscription = ?',
      [state === 'leased' ? 'pending' : state, lease.lease_until, lease.lease_holder, id, `webhook:s${i}`]);
  }
  return id;
}

const eventIds = async (e: EngineUnderTest): Promise<string[]> => (await e.sql<{ id: string }>('SELECT id FROM events ORDER BY seq')).map((r) => r.id);
const deliveryCount = async (e: EngineUnderTest): Promise<number> => Number((await e.sql<{ n: number }>('SELECT count(*) AS n FROM deliveries'))[0].n);

/** Every chunk of events up to `upTo`, `limit` rows at a time, as the job runs them. */
async function allEventChunks(e: EngineUnderTest, request: Omit<ChunkRequest, 'after'>): Promise<EventChunk[]> {
  const chunks: EventChunk[] = [];
  let after: ChunkCursor | undefined;
  for (;;) {
    const chunk = await e.store.housekeeping.deleteFinishedEvents({ ...request, after });
    chunks.push(chunk);
    if (chunk.next === null) return chunks;
    after = chunk.next;
  }
}

describe('store contract: housekeeping', () => {
  bothEngines('done jobs at or before upTo go, oldest first, a chunk at a time; dead, live and recent ones stay', async (e) => {
    const q = e.store.queue;
    // One done the way the engine makes them: inserted, claimed, completed at 1_500.
    const viaQueue = (await q.insert({ topic: 'file.process', payload: { fileId: 'f1' }, maxAttempts: 5 }, 1_000)).job;
    const [claimed] = await q.claim({ topic: 'file.process', leaseMs: 10_000, max: 1, perAccount: 1, held: {}, now: 1_000 });
    assert.equal(claimed.id, viaQueue.id);
    await q.complete(leaseOf(claimed), 1_500);
    const done = [await queueRow(e, 'done', 1_200), await queueRow(e, 'done', 2_000), await queueRow(e, 'done', 1_800)];
    const kept = [await queueRow(e, 'dead', 100), await queueRow(e, 'ready', 100), await queueRow(e, 'leased', 100), await queueRow(e, 'done', 2_001)];

    const first = await e.store.housekeeping.deleteDoneJobs({ upTo: 2_000, limit: 3 });
    assert.equal(first.deleted, 3);
    assert.deepEqual(first.next, { at: 1_800, id: done[2] }, 'a full chunk: the next starts after its last row (updated_at, id)');
    assert.deepEqual((await queueIds(e)).sort((a, b) => a - b), [done[1], ...kept].sort((a, b) => a - b), 'the oldest three went first');
    const second = await e.store.housekeeping.deleteDoneJobs({ upTo: 2_000, limit: 3, after: first.next });
    assert.deepEqual(second, { deleted: 1, next: null }, 'the job at exactly upTo goes; a chunk not full is the last');
    assert.deepEqual((await queueIds(e)).sort((a, b) => a - b), [...kept].sort((a, b) => a - b));
    assert.deepEqual(await e.store.housekeeping.deleteDoneJobs({ upTo: 2_000, limit: 3 }), { deleted: 0, next: null });
  });

  bothEngines('dry run: the same chunks and counts, nothing deleted', async (e) => {
    for (const t of [10, 20, 30, 40, 50]) await queueRow(e, 'done', t);
    await queueRow(e, 'dead', 10);
    const before = await queueIds(e);
    const first = await e.store.housekeeping.deleteDoneJobs({ upTo: 40, limit: 2, dryRun: true });
    const second = await e.store.housekeeping.deleteDoneJobs({ upTo: 40, limit: 2, dryRun: true, after: first.next! });
    const third = await e.store.housekeeping.deleteDoneJobs({ upTo: 40, limit: 2, dryRun: true, after: second.next! });
    assert.deepEqual([first.deleted, second.deleted, third.deleted, third.next], [2, 2, 0, null]);
    assert.deepEqual(await queueIds(e), before);

    const event = await eventWith(e, 10, ['delivered', 'dead']);
    await eventWith(e, 10, ['pending']);
    const [chunk] = await allEventChunks(e, { upTo: 10, limit: 10, dryRun: true });
    assert.deepEqual({ ...chunk, next: null }, { examined: 2, events: 1, deliveries: 2, kept: 1, next: null });
    assert.equal((await eventIds(e)).includes(event), true);
    assert.equal(await deliveryCount(e), 3);
  });

  bothEngines('an old event whose deliveries are all delivered or dead goes with them; an unfinished delivery keeps it', async (e) => {
    const { events, deliveries } = e.store;
    // Delivered and dead through the dispatcher's own calls.
    const finished = await events.record({ type: 'file.rejected', account: 'acme', at: 1_000 });
    await events.route([{ event: (await events.get(finished))!, deliveries: subscriptions(2, 1_000) }], 1_000);
    const [a, b] = await deliveries.claim('node-a', 1_000, 10_000);
    assert.equal(await deliveries.delivered(a.delivery.id, 'node-a', 1_100, 204), true);
    assert.equal(await deliveries.failed(b.delivery.id, 'node-a', 1_100, { status: 500, error: 'answered 500', nextAt: null }), true);
    const toNobody = await eventWith(e, 1_000, []);
    const pending = await eventWith(e, 1_000, ['delivered', 'pending']);
    const failed = await eventWith(e, 1_000, ['failed', 'dead']);
    const leased = await eventWith(e, 1_000, ['leased']);
    const unrouted = await eventWith(e, 1_000, 'unrouted');
    const recent = await eventWith(e, 5_001, ['delivered']);
    assert.equal(await deliveryCount(e), 8);

    const chunks = await allEventChunks(e, { upTo: 5_000, limit: 100 });
    assert.deepEqual(chunks.map((c) => ({ ...c, next: null })), [{ examined: 5, events: 2, deliveries: 2, kept: 3, next: null }],
      'five routed old events examined (not the unrouted one): two deleted with their two deliveries, three kept');
    assert.deepEqual(await eventIds(e), [pending, failed, leased, unrouted, recent]);
    assert.equal(await deliveryCount(e), 6, 'the kept events keep all their deliveries, the delivered one included');
    assert.equal(await events.get(finished), undefined);
    assert.equal(await events.get(toNobody), undefined);
    assert.equal(await deliveries.get(a.delivery.id), undefined);
  });

  bothEngines('chunks of events step past the ones kept: a run reaches the end whatever stays', async (e) => {
    const kept: string[] = [];
    const gone: string[] = [];
    for (let i = 0; i < 7; i++) {
      // Every other event is still being delivered; the cursor (at, seq) must move past them.
      if (i % 2 === 0) kept.push(await eventWith(e, 100 + (i % 3), ['failed']));
      else gone.push(await eventWith(e, 100 + (i % 3), ['delivered']));
    }
    const chunks = await allEventChunks(e, { upTo: 1_000, limit: 2 });
    assert.deepEqual(chunks.map((c) => c.examined), [2, 2, 2, 1]);
    assert.equal(chunks.reduce((n, c) => n + c.events, 0), gone.length);
    assert.equal(chunks.reduce((n, c) => n + c.kept, 0), kept.length);
    assert.deepEqual((await eventIds(e)).sort(), [...kept].sort());
    assert.deepEqual((await allEventChunks(e, { upTo: 1_000, limit: 2 })).map((c) => [c.examined, c.events]), [[2, 0], [2, 0], [0, 0]],
      'a second run examines the kept ones again (a full chunk may have more after it), and deletes nothing');
  });

  bothEngines('a delivery retried while its event is being examined keeps the event (the delivery is read once locked)', async (e) => {
    const event = await eventWith(e, 1_000, ['dead']);
    const [delivery] = await e.store.deliveries.list({ eventId: event });
    // An operator's `deliveries retry` on another node, its transaction not yet committed.
    const operator = await e.another() as PostgresStore;
    const client = await operator.pool.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT * FROM deliveries WHERE id = $1 FOR UPDATE', [delivery.id]);
      await client.query(`UPDATE deliveries SET state = 'pending', due_at = 2000 WHERE id = $1`, [delivery.id]);
      const examined = e.store.housekeeping.deleteFinishedEvents({ upTo: 5_000, limit: 10 });
      // The deletion waits for the retry's row lock (it would otherwise see `dead`, the state before).
      await new Promise((r) => setTimeout(r, 300));
      await client.query('COMMIT');
      const chunk = await examined;
      assert.deepEqual([chunk.events, chunk.kept], [0, 1]);
    } finally {
      client.release();
    }
    assert.equal((await e.store.deliveries.get(delivery.id))?.state, 'pending');
    assert.notEqual(await e.store.events.get(event), undefined);
    // And the other way round: a retry after the deletion finds nothing to retry.
    const gone = await eventWith(e, 1_000, ['dead']);
    const [goneDelivery] = await e.store.deliveries.list({ eventId: gone });
    await e.store.housekeeping.deleteFinishedEvents({ upTo: 5_000, limit: 10 });
    await assert.rejects(operator.deliveries.retry(goneDelivery.id), (err: FluxgateError) => err.code === 'FG_DELIVERY_NOT_FOUND');
  }, ['postgres']);
});
