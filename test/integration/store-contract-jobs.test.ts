import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { NewTombstone, RetainedInput } from '../../core/store/ports/jobs';
import { bothEngines } from '../helpers/postgres-contract';
import { fileTimeline, insertFile, newAccount } from './store-contract-support';

// What the cron jobs keep, through their interfaces, on SQLite and on PostgreSQL: tombstones,
// retention's reads and first-seen registry, inactivity marks.
const tombstone = (over: Partial<NewTombstone> = {}): NewTombstone => ({
  fileId: null, accountId: 'acme', path: '/data/sftp/acme/out/sal/r.csv', name: 'r.csv', size: 3, sha256: null, rule: 'out',
  deletedAt: 1_000, asOf: 2_000, inode: '1:2:3', detail: { note: 'n' }, ...over,
});

describe('store contract: tombstones, retention, inactivity', () => {
  bothEngines('tombstones: intent, confirmation (with the journal row\'s deletion), discard, listing', async (e) => {
    const { tombstones } = e.store;
    const input = await insertFile(e, { receivedAt: 1_000, state: 'processed', location: '/data/archive/acme/sal/a.csv', name: 'a.csv' });
    const t1 = await tombstones.intend(tombstone({ fileId: input, path: '/data/archive/acme/sal/a.csv', name: 'a.csv', rule: 'archive' }));
    assert.deepEqual({ ...t1, id: 0 }, { id: 0, fileId: input, accountId: 'acme', path: '/data/archive/acme/sal/a.csv', name: 'a.csv', size: 3, sha256: null,
      rule: 'archive', deletedAt: 1_000, asOf: 2_000, state: 'pending', inode: '1:2:3', detail: { note: 'n' } });
    const report = await tombstones.intend(tombstone({ fileId: input, name: 'report.csv', path: '/data/sftp/acme/out/sal/report.csv' })); // the file's report, not the file
    const gone = await tombstones.intend(tombstone({ name: 'failed-unlink.csv', path: '/data/sftp/acme/out/sal/failed-unlink.csv' }));
    await tombstones.intend(tombstone({ accountId: 'other', name: 'x.csv', path: '/data/sftp/other/x.csv' }));
    assert.deepEqual((await tombstones.pending()).map((t) => t.name), ['a.csv', 'report.csv', 'failed-unlink.csv', 'x.csv']);

    await tombstones.confirm(report.id, { bytes: 3 }, 4_000);
    assert.equal((await fileTimeline(e, input)).state, 'processed', 'deleting the report does not end the input\'s row');
    await tombstones.confirm(t1.id, {}, 5_000);
    await tombstones.confirm(t1.id, { again: true }, 6_000); // a second confirmation (a rerun, another node) changes nothing
    const done = (await tombstones.get(t1.id))!;
    assert.deepEqual([done.state, done.deletedAt, done.detail], ['done', 5_000, { note: 'n' }]);
    assert.deepEqual((await tombstones.get(report.id))!.detail, { note: 'n', bytes: 3 });
    const timeline = await fileTimeline(e, input);
    assert.equal(timeline.state, 'deleted');
    assert.deepEqual(timeline.events.map((x) => [x.type, x.detail]), [
      ['deleted', { path: '/data/sftp/acme/out/sal/report.csv', rule: 'out', tombstone: report.id }],
      ['deleted', { path: '/data/archive/acme/sal/a.csv', rule: 'archive', tombstone: t1.id }],
    ]);

    await tombstones.discard(gone.id);
    await tombstones.discard(t1.id); // a done tombstone is never discarded
    assert.equal(await tombstones.get(gone.id), undefined);
    assert.equal((await tombstones.get(t1.id))?.state, 'done');
    assert.deepEqual((await tombstones.list({ accountId: 'acme' })).map((t) => t.name), ['a.csv', 'report.csv']);
    assert.deepEqual((await tombstones.list({ fileId: input })).map((t) => t.name), ['a.csv', 'report.csv']);
    assert.deepEqual((await tombstones.list({ name: 'port.c' })).map((t) => t.name), ['report.csv'], 'a plain substring');
    assert.deepEqual((await tombstones.list({ name: '%' })).map((t) => t.name), [], 'no wildcard');
    assert.deepEqual((await tombstones.list({ limit: 1 })).map((t) => t.name), ['a.csv']);
    assert.equal((await tombstones.list()).length, 3);
  });

  bothEngines('retention: finished inputs a page at a time, by kind and age', async (e) => {
    await insertFile(e, { id: 'p1', state: 'processed', receivedAt: 100, processedAt: 500 });
    await insertFile(e, { id: 'p2', state: 'processed', receivedAt: 100, processedAt: 400 });
    await insertFile(e, { id: 'p3', state: 'processed', receivedAt: 100, processedAt: 900 }); // too recent
    await insertFile(e, { id: 'p4', state: 'processed', receivedAt: 300, processedAt: null }); // an old version's row
    await insertFile(e, { id: 'r1', state: 'rejected', receivedAt: 200 });
    await insertFile(e, { id: 'r2', state: 'rejected', receivedAt: 700 }); // too recent
    await insertFile(e, { id: 'd1', state: 'dead', receivedAt: 150 });
    await insertFile(e, { id: 'f1', state: 'failed', receivedAt: 10 }); // still the engine's
    await insertFile(e, { id: 'x1', state: 'deleted', receivedAt: 10, processedAt: 10 });
    for (const pageSize of [1, 2, 500]) {
      const got: RetainedInput[] = [];
      for await (const f of e.store.retention.finishedInputs({ processedBefore: 600, receivedBefore: 600 }, pageSize)) got.push(f);
      assert.deepEqual(got.map((f) => f.fileId), ['p2', 'p1', 'p4', 'r1', 'd1'], `page size ${pageSize}`);
    }
    const [first] = await (async () => { for await (const f of e.store.retention.finishedInputs({ processedBefore: 600, receivedBefore: 600 })) return [f]; return []; })();
    assert.deepEqual(first, { fileId: 'p2', accountId: 'acme', name: 'p2.csv', state: 'processed', location: '/data/sftp/acme/in/sal/p2.csv', size: 3,
      sha256: 'b'.repeat(64), receivedAt: 100, processedAt: 400 });
  });

  bothEngines('retention: journal rows at a location, an account\'s rows, outputs, the first-seen registry', async (e) => {
    const { retention } = e.store;
    await insertFile(e, { id: 'old', state: 'processed', receivedAt: 100, location: '/d/a.csv' });
    await insertFile(e, { id: 'live', state: 'received', receivedAt: 200, location: '/d/a.csv' });
    await insertFile(e, { id: 'gone', state: 'deleted', receivedAt: 50, location: '/d/b.csv' });
    await insertFile(e, { id: 'elsewhere', accountId: 'other', state: 'rejected', receivedAt: 60, location: '/o/c.csv' });
    assert.deepEqual(await retention.journalRowAt('/d/a.csv'), { fileId: 'live', state: 'received', size: 3, sha256: 'b'.repeat(64), receivedAt: 200 }, 'a live row first');
    assert.equal(await retention.journalRowAt('/d/b.csv'), undefined, 'deleted rows do not count');
    assert.deepEqual([...(await retention.journalAt('other')).entries()], [['/o/c.csv', { fileId: 'elsewhere', state: 'rejected', size: 3, sha256: 'b'.repeat(64), receivedAt: 60 }]]);
    assert.deepEqual((await retention.undeletedFiles('acme')).map((f) => f.fileId).sort(), ['live', 'old']);
    assert.deepEqual((await retention.undeletedFiles('acme')).find((f) => f.fileId === 'old'), { fileId: 'old', location: '/d/a.csv', name: 'old.csv', size: 3, sha256: 'b'.repeat(64) });

    for (const [fileId, createdAt] of [['old', 300], ['live', 400], [null, 350]] as const) {
      await e.sql('INSERT INTO outputs (file_id, account_id, kind, path, created_at) VALUES (?, ?, ?, ?, ?)', [fileId, 'acme', 'report', '/d/out/r.csv', createdAt]);
    }
    assert.deepEqual(await retention.latestOutput('acme', '/d/out/r.csv'), { fileId: 'live', accountId: 'acme', kind: 'report', path: '/d/out/r.csv', createdAt: 400 });
    assert.equal(await retention.latestOutput('other', '/d/out/r.csv'), undefined);

    const seen = (path: string, firstSeenAt: number, accountId = 'acme') => ({ path, accountId, inode: `i-${path}`, firstSeenAt });
    await retention.replaceSeen('acme', [seen('/d/x', 10), seen('/d/y', 20)], 100);
    await retention.replaceSeen('other', [seen('/o/z', 30, 'other')], 100);
    await retention.replaceSeen('acme', [seen('/d/y', 20), seen('/d/w', 40)], 200); // x is gone
    assert.deepEqual([...(await retention.seen('acme')).values()].sort((a, b) => a.path.localeCompare(b.path)), [seen('/d/w', 40), seen('/d/y', 20)]);
    await retention.forgetAccount('acme');
    assert.equal((await retention.seen('acme')).size, 0);
    assert.deepEqual([...(await retention.seen('other')).keys()], ['/o/z']);
  });

  bothEngines('inactivity: marks set, replaced, cleared; disableAccount disables with its event and marks', async (e) => {
    const { inactivity } = e.store;
    await newAccount(e, 'acme');
    await newAccount(e, 'beta');
    assert.equal(await inactivity.get('acme'), undefined);
    await inactivity.set({ accountId: 'beta', basisAt: 1, disabledAt: 2 });
    await inactivity.set({ accountId: 'beta', basisAt: 3, disabledAt: 4 });
    assert.deepEqual(await inactivity.get('beta'), { accountId: 'beta', basisAt: 3, disabledAt: 4 });
    await inactivity.clear('beta');
    assert.equal(await inactivity.get('beta'), undefined);

    await inactivity.disableAccount({ accountId: 'acme', basisAt: 1_000, disabledAt: 9_000 }, 'no login for 90 days');
    assert.deepEqual(await inactivity.get('acme'), { accountId: 'acme', basisAt: 1_000, disabledAt: 9_000 });
    const acme = (await e.store.accounts.get('acme'))!;
    assert.deepEqual([acme.enabled, acme.disabledReason, acme.disabledAt], [false, 'no login for 90 days', 9_000]);
    assert.deepEqual((await e.store.events.list({ type: 'account.disabled' })).map((x) => [x.event.account, x.at]), [['acme', 9_000]]);
  });
});
