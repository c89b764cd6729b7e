import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { NewEvent } from '../../core/store/event-types';
import { bothEngines } from '../helpers/postgres-contract';
import { insertFile } from './store-contract-support';

// ExpectationRepository through its interface, on SQLite and on PostgreSQL: the first matching
// arrival, and each incident of a period raised once, whichever node raises it.
const lateEvent = (at: number): NewEvent => ({ type: 'expectation.late', at, name: 'daily-sal', account: 'acme', data: { deadline: 'x' } });

describe('store contract: expectations', () => {
  bothEngines('firstFile: the first arrival in the window, of the flux, that the name test accepts', async (e) => {
    await insertFile(e, { id: 'early', receivedAt: 99, name: 'ok_early.csv' });
    await insertFile(e, { id: 'sir', receivedAt: 100, name: 'ok_sir.csv', flux: 'sir' });
    await insertFile(e, { id: 'badname', receivedAt: 100, name: 'nope.csv' });
    await insertFile(e, { id: 'b', receivedAt: 150, name: 'ok_b.csv' });
    await insertFile(e, { id: 'a', receivedAt: 150, name: 'ok_a.csv' });
    await insertFile(e, { id: 'other', receivedAt: 120, name: 'ok_other.csv', accountId: 'other' });
    await insertFile(e, { id: 'last', receivedAt: 200, name: 'ok_last.csv', flux: null });
    const accept = (name: string): boolean => name.startsWith('ok_');
    const { expectations } = e.store;
    assert.deepEqual(await expectations.firstFile('acme', 100, 200, 'sal', accept), { id: 'a', name: 'ok_a.csv', flux: 'sal', receivedAt: 150 }, 'by time, then id');
    assert.equal((await expectations.firstFile('acme', 100, 200, undefined, accept))?.id, 'sir', 'any flux');
    assert.equal((await expectations.firstFile('acme', 100, 149, 'sal', accept)), undefined);
    assert.equal((await expectations.firstFile('acme', 151, 200, undefined, accept))?.id, 'last', 'both ends included');
    assert.equal((await expectations.firstFile('acme', 0, 1_000, 'sal', (n) => n === 'ok_b.csv'))?.id, 'b');
  });

  bothEngines('firstFile reads past many refused names (more than one page)', async (e) => {
    for (let i = 0; i < 450; i++) await insertFile(e, { id: `n${String(i).padStart(4, '0')}`, receivedAt: 1_000 + i, name: `refused_${i}.csv` });
    await insertFile(e, { id: 'yes', receivedAt: 5_000, name: 'wanted.csv' });
    assert.equal((await e.store.expectations.firstFile('acme', 0, 10_000, 'sal', (n) => n === 'wanted.csv'))?.id, 'yes');
  });

  bothEngines('raise: each kind once per period, with its event; acknowledge', async ({ store }) => {
    const { expectations } = store;
    assert.equal(await expectations.period('daily-sal', 5_000), undefined);
    assert.equal(await expectations.raise('daily-sal', 5_000, 'late', 5_100, lateEvent(5_100)), true);
    assert.equal(await expectations.raise('daily-sal', 5_000, 'late', 5_200, lateEvent(5_200)), false);
    assert.equal(await expectations.raise('daily-sal', 5_000, 'missed', 5_300, { ...lateEvent(5_300), type: 'expectation.missed' }), true);
    assert.equal(await expectations.raise('daily-sal', 6_000, 'late', 6_100, lateEvent(6_100)), true, 'another period');
    await expectations.acknowledge('daily-sal', 5_000, 'alice', 5_400);
    await expectations.acknowledge('daily-sal', 7_000, 'bob', 7_400); // a period nothing was raised for yet
    assert.deepEqual(await expectations.period('daily-sal', 5_000), { lateAt: 5_100, missedAt: 5_300, recoveredAt: null, acknowledgedAt: 5_400, acknowledgedBy: 'alice' });
    assert.deepEqual(await expectations.period('daily-sal', 7_000), { lateAt: null, missedAt: null, recoveredAt: null, acknowledgedAt: 7_400, acknowledgedBy: 'bob' });
    assert.deepEqual((await store.events.list({ type: 'expectation.*' })).map((x) => [x.event.type, x.at]),
      [['expectation.late', 5_100], ['expectation.missed', 5_300], ['expectation.late', 6_100]]);
  });

  bothEngines('raise from several nodes at once: one of them records it, one event', async (e) => {
    const nodes = [e.store, await e.another(), await e.another()];
    const raised = await Promise.all(nodes.flatMap((s, i) => [0, 1].map((j) => s.expectations.raise('daily-sal', 5_000, 'late', 5_100 + i * 10 + j, lateEvent(5_100 + i * 10 + j)))));
    assert.equal(raised.filter(Boolean).length, 1);
    assert.equal((await e.store.events.list({ type: 'expectation.late' })).length, 1);
  });
});
