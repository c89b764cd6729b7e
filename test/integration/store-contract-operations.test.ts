import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import { bothEngines } from '../helpers/postgres-contract';
import { insertFile, insertFileEvent, newAccount } from './store-contract-support';

// The operator plane's read models (dashboard, /metrics, /readyz) through OperationsRepository,
// on SQLite and on PostgreSQL, from the same rows.
const DAY = 86_400_000;
const NOW = 20 * DAY + 10 * 3_600_000; // 10:00 on day 20

describe('store contract: operations read models', () => {
  bothEngines('dashboard and metrics from the same rows on both engines', async (e) => {
    const { store } = e;
    const midnight = 20 * DAY;
    await insertFile(e, { id: 'today-ok', receivedAt: midnight + 1, state: 'processed' });
    await insertFile(e, { id: 'today-rej', receivedAt: midnight + 2, state: 'rejected', outcome: JSON.stringify({ summary: 'the column lastname is missing' }) });
    await insertFile(e, { id: 'today-rej2', receivedAt: midnight + 3, state: 'rejected', flux: null, outcome: JSON.stringify({ code: 'FG_NAMING' }) });
    await insertFile(e, { id: 'old-dead', receivedAt: midnight - 5, state: 'dead', name: 'dead.csv' });
    for (const [state, runAt] of [['ready', NOW - 30_000], ['ready', NOW - 10_000], ['ready', NOW + 60_000], ['leased', NOW - 1], ['done', 1]] as const) {
      await e.sql('INSERT INTO queue (topic, payload, state, run_at, max_attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', ['file', '{}', state, runAt, 5, 1, 1]);
    }
    for (const status of [200, 200, 401]) {
      await store.audit.record({ at: midnight + 5, actor: 'operator:alice', role: 'admin', action: 'POST /api/v1/login', target: null, address: null, status, code: null });
    }
    await store.audit.record({ at: midnight - 5, actor: 'operator:alice', role: 'admin', action: 'POST /console/login', target: null, address: null, status: 200, code: null });
    await newAccount(e, 'acme');
    await newAccount(e, 'off');
    await store.accounts.setEnabled('off', false, 'x');
    await store.accounts.recordLogin('acme', midnight + 7);
    await store.accounts.addKey({ accountId: 'acme', type: 'ssh-ed25519', bits: 256, fingerprint: 'SHA256:soon', publicKey: 'k', comment: '', addedAt: 1, expiresAt: NOW + 3 * DAY });
    await store.accounts.addKey({ accountId: 'acme', type: 'ssh-ed25519', bits: 256, fingerprint: 'SHA256:later', publicKey: 'k2', comment: '', addedAt: 1, expiresAt: NOW + 30 * DAY });
    const failed = await store.cronRuns.begin('retention', 1, 1_000);
    await store.cronRuns.finish(failed.id, 'failed', {}, 'disk full', 2_000);
    const ok = await store.cronRuns.begin('key-expiry', 1, 1_000);
    await store.cronRuns.finish(ok.id, 'ok', {}, null, 2_000);

    const d = await store.operations.dashboard(NOW);
    assert.deepEqual(d.today, [{ flux: '', state: 'rejected', n: 1 }, { flux: 'sal', state: 'processed', n: 1 }, { flux: 'sal', state: 'rejected', n: 1 }]);
    assert.deepEqual(d.recentRejected, [
      { id: 'today-rej2', account: 'acme', name: 'today-rej2.csv', flux: null, receivedAt: midnight + 3, summary: 'FG_NAMING' },
      { id: 'today-rej', account: 'acme', name: 'today-rej.csv', flux: 'sal', receivedAt: midnight + 2, summary: 'the column lastname is missing' },
    ]);
    assert.equal(d.dead, 1);
    assert.deepEqual(d.deadFiles, [{ id: 'old-dead', account: 'acme', name: 'dead.csv', receivedAt: midnight - 5 }]);
    assert.deepEqual(d.queue, { ready: 2, leased: 1, oldestWaitingSeconds: 30 });
    assert.deepEqual(d.operatorLogins, { ok: 2, refused: 1 });
    assert.deepEqual(d.expiringKeys, [{ account: 'acme', fingerprint: 'SHA256:soon', expiresAt: NOW + 3 * DAY }]);
    assert.deepEqual(d.failedJobs, [{ job: 'retention', startedAt: 1_000, error: 'disk full' }]);
    assert.equal(d.disabledAccounts, 1);
    assert.equal(d.accountsLoggedInToday, 1);

    const m = await store.operations.metrics(NOW);
    assert.deepEqual([...m.files].sort((a, b) => `${a.flux}${a.state}`.localeCompare(`${b.flux}${b.state}`)),
      [{ flux: '', state: 'rejected', n: 1 }, { flux: 'sal', state: 'dead', n: 1 }, { flux: 'sal', state: 'processed', n: 1 }, { flux: 'sal', state: 'rejected', n: 1 }]);
    assert.equal(m.dead, 1);
    assert.deepEqual(m.queue, { ready: 2, leased: 1, oldestReadyAt: NOW - 30_000 });
    assert.deepEqual([...m.jobRuns].sort((a, b) => a.job.localeCompare(b.job)), [{ job: 'key-expiry', outcome: 'ok', n: 1 }, { job: 'retention', outcome: 'failed', n: 1 }]);
  });

  bothEngines('an empty store: zeros, not nulls', async ({ store }) => {
    const d = await store.operations.dashboard(NOW);
    assert.deepEqual([d.today, d.dead, d.queue, d.operatorLogins, d.disabledAccounts, d.accountsLoggedInToday],
      [[], 0, { ready: 0, leased: 0, oldestWaitingSeconds: 0 }, { ok: 0, refused: 0 }, 0, 0]);
    assert.deepEqual((await store.operations.metrics(NOW)).queue, { ready: 0, leased: 0, oldestReadyAt: null });
    assert.equal(await store.operations.lastFileEventId(), 0);
    assert.equal(await store.operations.ping(), true);
  });

  bothEngines('finished files since an event, each with the start of its last attempt', async (e) => {
    const ops = e.store.operations;
    await insertFile(e, { id: 'f1', receivedAt: 1 });
    await insertFile(e, { id: 'f2', receivedAt: 2, flux: null });
    await insertFileEvent(e, 'f1', 'received', 10);
    const start = await ops.lastFileEventId();
    await insertFileEvent(e, 'f1', 'attempt', 20);
    await insertFileEvent(e, 'f1', 'attempt-failed', 25);
    await insertFileEvent(e, 'f1', 'attempt', 30);
    await insertFileEvent(e, 'f2', 'rejected', 35);
    await insertFileEvent(e, 'f1', 'processed', 40);
    const done = await ops.finishedFilesSince(start);
    assert.deepEqual(done.map(({ eventId, ...f }) => { assert.ok(eventId > start); return f; }), [
      { at: 35, outcome: 'rejected', flux: null, began: null },
      { at: 40, outcome: 'processed', flux: 'sal', began: 30 },
    ]);
    assert.deepEqual(await ops.finishedFilesSince(await ops.lastFileEventId()), []);
  });
});
