import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { FluxgateError } from '../../core/errors';
import type { NewJournalFile } from '../../core/store/journal-types';
import { leaseOf, type NewJob } from '../../core/store/ports/queue';
import type { PostgresStore } from '../../core/store/postgres/postgres-store';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';
import { newAccount } from './store-contract-support';

// The journal through its port (core/store/ports/journal.ts), on both engines.
const pg = (e: EngineUnderTest): PostgresStore => e.store as PostgresStore;
const code = (c: string) => (err: unknown): boolean => (err as FluxgateError).code === c;
const upload = (name: string, over: Partial<NewJournalFile> = {}): NewJournalFile => ({
  accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: `in/sal/${name}`, name, size: 3,
  sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: `/data/sftp/acme/in/sal/${name}`, ...over,
});
const jobOf = (fileId: string): NewJob => ({ topic: 'file', payload: { fileId }, maxAttempts: 5, dedupKey: `file:${fileId}`, accountId: 'acme' });

describe('store contract: journal', () => {
  bothEngines('insert: the row, its received events, once per live location', async (e) => {
    const j = pg(e).journal;
    const f = (await j.insert(upload('a.csv', { client: { address: '192.0.2.7', fingerprint: 'SHA256:k' } }), 1_000))!;
    assert.match(f.id, /^f_19700101000001_[0-9a-f]{8}$/);
    assert.deepEqual([f.state, f.receivedAt, f.updatedAt, f.attempts, f.outcome, f.client], ['received', 1_000, 1_000, 0, null, { address: '192.0.2.7', fingerprint: 'SHA256:k' }]);
    assert.equal(await j.insert(upload('a.csv'), 2_000), undefined, 'a live row holds the location');
    assert.deepEqual((await j.events(f.id)).map((x) => [x.type, x.detail]), [['received', { path: 'in/sal/a.csv', size: 3, sha256: 'b'.repeat(64) }]]);
    const [received] = await e.store.events.list({ type: 'file.received' });
    assert.deepEqual([received.event.fileId, received.event.summary, received.event.data.clientAddress], [f.id, 'a.csv received (3 bytes)', '192.0.2.7']);
    assert.equal((await j.liveAt(f.location))?.id, f.id);
    await j.update(f.id, { state: 'failed' });
    assert.equal(await j.insert(upload('a.csv'), 3_000), undefined, 'failed is live too: the engine retries it');
    await j.update(f.id, { state: 'processed' });
    assert.equal(await j.liveAt(f.location), undefined);
    assert.ok(await j.insert(upload('a.csv'), 4_000), 'once processed, the same name is a new upload');
    assert.deepEqual((await j.live()).map((x) => x.receivedAt), [4_000]);
  });

  bothEngines('two nodes journaling the same upload at once: one row', async (e) => {
    const node2 = (await e.another()) as PostgresStore;
    const results = await Promise.all([pg(e), node2, pg(e), node2].map((s) => s.journal.insert(upload('same.csv'), 1_000)));
    assert.equal(results.filter((r) => r !== undefined).length, 1);
    assert.equal((await e.store.events.list({ type: 'file.received' })).length, 1);
  });

  bothEngines('one entry per upload: the same file (account, path, identity) is recorded once whatever its entry became; a new file at the path is a new entry', async (e) => {
    const { journal: a } = pg(e);
    const { journal: b } = (await e.another()) as PostgresStore; // another node
    await newAccount(e, 'acme');
    const record = (j: typeof a, identity: string | undefined) => j.recordUpload(upload('u.csv', { identity }), (file) => jobOf(file.id), () => undefined);
    // The SFTP server's announcement on one node and another node's scan, at once, both live: one row.
    const raced = await Promise.all([record(a, '7:1700000000123456789:3'), record(b, '7:1700000000123456789:3')]);
    assert.equal(raced.filter((r) => r !== undefined).length, 1, 'one of the two is recorded');
    const first = raced.find((r) => r !== undefined)!.file;
    assert.equal((await b.uploadEntry('acme', 'in/sal/u.csv', '7:1700000000123456789:3'))?.id, first.id);
    // Node A processes it and moves it out of in/: its row is no longer live at the location.
    await a.startAttempt(first.id, 1, 5, 'sal');
    await a.moved(first.id, `/data/archive/acme/sal/${first.id}_u.csv`, 'archived', { from: first.location });
    await a.finish(first.id, 'processed', { result: 'processed' });
    assert.equal(await a.liveAt(first.location), undefined);
    // Node B's scan had digested the file before: its record is refused, on either node.
    assert.equal(await record(b, '7:1700000000123456789:3'), undefined, 'the same upload, once processed and archived, is not recorded again');
    assert.equal(await record(a, '7:1700000000123456789:3'), undefined);
    assert.equal(await b.insert(upload('u.csv', { identity: '7:1700000000123456789:3' })), undefined, 'insert refuses it too');
    const entry = await b.uploadEntry('acme', 'in/sal/u.csv', '7:1700000000123456789:3');
    assert.deepEqual([entry?.id, entry?.state, entry?.location], [first.id, 'processed', `/data/archive/acme/sal/${first.id}_u.csv`], 'found wherever the file is now');
    assert.equal((await e.sql('SELECT id FROM files')).length, 1);
    assert.equal((await e.store.queue.list()).length, 1, 'one job');
    assert.equal((await e.store.events.list({ type: 'file.received' })).length, 1, 'one file.received event');
    // The same name uploaded again, even with the same bytes, is a new file (a new inode): a new entry.
    const again = (await record(b, '8:1700000009000000000:3'))!;
    assert.ok(again, 'a new identity at the same path is a new upload');
    assert.notEqual(again.file.id, first.id);
    assert.equal(await b.uploadEntry('acme', 'in/sal/u.csv', '9:1:3'), undefined);
    assert.equal(await b.uploadEntry('other', 'in/sal/u.csv', '7:1700000000123456789:3'), undefined, 'per account');
    // Rows without an identity (journaled before migration 020) never conflict with one another.
    await a.finish(again.file.id, 'processed', { result: 'processed' });
    const old1 = (await a.insert(upload('v.csv')))!;
    await a.finish(old1.id, 'processed', { result: 'processed' });
    assert.ok(await a.insert(upload('v.csv')), 'no identity: the live-location rule alone');
  });

  bothEngines('the lifecycle: each transition with its timeline event, the end with its outbox event', async (e) => {
    const j = pg(e).journal;
    const f = (await j.insert(upload('b.csv'), 1_000))!;
    const attempt = await j.startAttempt(f.id, 1, 5, 'sal');
    assert.deepEqual([attempt.state, attempt.attempts, attempt.workflow], ['processing', 1, 'sal']);
    const failed = await j.attemptFailed(f.id, 1, { code: 'FG_X', error: 'boom', retryInMs: 1_000 });
    assert.deepEqual([failed.state, failed.outcome], ['failed', { result: 'failed', code: 'FG_X', summary: 'boom' }]);
    await j.pause(f.id, { reason: 'disk full' });
    await j.startAttempt(f.id, 2, 5, 'sal');
    await j.addEvent(f.id, 'step', { step: 'parse', ms: 12 }, 5_000);
    const moved = await j.moved(f.id, '/data/archive/acme/sal/b.csv', 'archived', { from: f.location });
    assert.equal(moved.location, '/data/archive/acme/sal/b.csv');
    const done = await j.finish(f.id, 'processed', { result: 'processed', counts: { created: 1, updated: 0, unchanged: 0, rejected: 0 } }, { at: 9_000 });
    assert.deepEqual([done.state, done.processedAt], ['processed', 9_000]);
    assert.deepEqual((await j.events(f.id)).map((x) => x.type), ['received', 'attempt', 'attempt-failed', 'paused', 'attempt', 'step', 'archived', 'processed']);
    const [processed] = await e.store.events.list({ type: 'file.processed' });
    assert.deepEqual([processed.event.fileId, processed.at, processed.event.data.counts], [f.id, 9_000, { created: 1, updated: 0, unchanged: 0, rejected: 0 }]);
    assert.equal(await j.change('f_none', { state: 'failed' }, { type: 'x' }), undefined);
    await assert.rejects(j.finish('f_none', 'dead', { result: 'dead' }), code('FG_FILE_NOT_FOUND'));
    assert.equal((await e.store.events.list({ type: 'file.dead' })).length, 0, 'a transition that fails records no event');
  });

  bothEngines('a transition under a lease taken over is refused (FG_LEASE_LOST) and writes nothing', async (e) => {
    const { journal: j, queue: q } = pg(e);
    const f = (await j.insert(upload('c.csv'), 0))!;
    await q.insert(jobOf(f.id), 0);
    const [first] = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 1, held: {}, now: 10 });
    await j.startAttempt(f.id, 1, 5, 'sal', { lease: leaseOf(first) });
    const [second] = await q.claim({ topic: 'file', leaseMs: 1_000, max: 1, perAccount: 1, held: {}, now: 5_000 }); // the first holder stalled
    await assert.rejects(j.finish(f.id, 'processed', { result: 'processed' }, { lease: leaseOf(first) }), code('FG_LEASE_LOST'));
    await assert.rejects(j.startAttempt(f.id, 2, 5, 'sal', { lease: leaseOf(first) }), code('FG_LEASE_LOST'));
    assert.deepEqual([(await j.get(f.id))!.state, (await j.get(f.id))!.attempts], ['processing', 1], 'nothing written');
    assert.equal((await e.store.events.list({ type: 'file.processed' })).length, 0);
    await j.startAttempt(f.id, 2, 5, 'sal', { lease: leaseOf(second) });
    assert.equal((await j.finish(f.id, 'processed', { result: 'processed' }, { lease: leaseOf(second) })).state, 'processed', 'the current holder finishes it, once');
  });

  bothEngines('recordUpload: the row and its job, or its refusal when the account is disabled; replayWithJob', async (e) => {
    const { journal: j, queue: q } = pg(e);
    await newAccount(e, 'acme');
    const refuseDisabled = (account: { enabled: boolean } | undefined) => account?.enabled ? undefined : { result: 'rejected' as const, code: 'FG_ACCOUNT_DISABLED' };
    const ok = (await j.recordUpload(upload('d.csv'), (file) => jobOf(file.id), refuseDisabled))!;
    assert.deepEqual([ok.file.state, ok.refusal], ['received', undefined]);
    assert.deepEqual((await q.list()).map((job) => job.payload), [{ fileId: ok.file.id }]);
    assert.equal(await j.recordUpload(upload('d.csv'), (file) => jobOf(file.id), refuseDisabled), undefined, 'the location is live');
    await e.store.accounts.setEnabled('acme', false, 'by hand');
    const refused = (await j.recordUpload(upload('e.csv'), (file) => jobOf(file.id), refuseDisabled))!;
    assert.deepEqual([refused.file.state, refused.refusal?.code, refused.file.outcome?.code], ['rejected', 'FG_ACCOUNT_DISABLED', 'FG_ACCOUNT_DISABLED']);
    assert.equal((await q.list()).length, 1, 'no job for a refused file');
    const gone = (await j.recordUpload(upload('f.csv', { accountId: 'ghost' }), (file) => jobOf(file.id), refuseDisabled))!;
    assert.equal(gone.refusal?.code, 'FG_ACCOUNT_DISABLED', 'no account: refusalOf is given undefined');

    await j.finish(refused.file.id, 'rejected', { result: 'rejected', code: 'FG_ACCOUNT_DISABLED' });
    const replayed = await j.replayWithJob(refused.file.id, 'rejected', refused.file.location, jobOf(refused.file.id));
    assert.deepEqual([replayed.state, replayed.attempts, replayed.outcome, replayed.processedAt], ['received', 0, null, null]);
    assert.equal((await j.events(refused.file.id)).at(-1)?.type, 'replay');
    assert.equal((await q.list()).length, 2);
  });

  bothEngines('markInterrupted, receipts, outputs', async (e) => {
    const j = pg(e).journal;
    const a = (await j.insert(upload('g.csv'), 1_000))!;
    const b = (await j.insert(upload('h.csv'), 2_000))!;
    await j.startAttempt(a.id, 1, 5, 'sal');
    const interrupted = await j.markInterrupted(3_000);
    assert.deepEqual(interrupted.map((f) => [f.id, f.state]), [[a.id, 'processing']], 'as they were');
    assert.equal((await j.get(a.id))!.state, 'failed');
    assert.equal((await j.get(b.id))!.state, 'received');
    const last = (await j.events(a.id)).at(-1)!;
    assert.equal(last.type, 'interrupted');
    assert.equal(last.detail.attempt, 1);

    await j.update(a.id, { receiptPath: '/out/tra/r1.xml' });
    assert.equal(await j.receiptPathTaken('/out/tra/r1.xml', b.id), true);
    assert.equal(await j.receiptPathTaken('/out/tra/r1.xml', a.id), false);
    assert.equal(await j.outputOwner('/out/sal/r.csv'), undefined);
    await j.recordOutput(a.id, 'acme', 'report', '/out/sal/r.csv', 4_000);
    await j.recordOutput(b.id, 'acme', 'report', '/out/sal/r.csv', 5_000);
    assert.equal(await j.outputOwner('/out/sal/r.csv'), b.id, 'the last writer');
  });

  bothEngines('list: newest first, filtered, paged by cursor; bad cursors and sizes refused', async (e) => {
    const j = pg(e).journal;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await j.insert(upload(`n${i}.csv`, { flux: i % 2 ? 'sir' : 'sal', accountId: i < 5 ? 'acme' : 'other' }), 1_000 + i))!.id);
    await j.finish(ids[2], 'rejected', { result: 'rejected', summary: 'The Column LASTNAME is missing' });
    assert.deepEqual((await j.list()).files.map((f) => f.id), [...ids].reverse());
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await j.list({ accountId: 'acme', limit: 2, cursor });
      pages.push(...page.files.map((f) => f.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(pages, ids.slice(0, 5).reverse());
    assert.deepEqual((await j.list({ flux: 'sir' })).files.map((f) => f.id), [ids[5], ids[3], ids[1]]);
    assert.deepEqual((await j.list({ state: 'rejected' })).files.map((f) => f.id), [ids[2]]);
    assert.deepEqual((await j.list({ since: 1_005 })).files.map((f) => f.id), [ids[6], ids[5]]);
    assert.deepEqual((await j.list({ q: 'column lastname' })).files.map((f) => f.id), [ids[2]], 'the summary, any case');
    assert.deepEqual((await j.list({ q: 'N4.CSV' })).files.map((f) => f.id), [ids[4]], 'the name, any case');
    assert.deepEqual((await j.list({ q: ids[6] })).files.map((f) => f.id), [ids[6]], 'an id');
    assert.deepEqual((await j.list({ q: '%' })).files, [], 'no wildcard');
    assert.equal((await j.list({ limit: 7 })).nextCursor, null);
    await assert.rejects(j.list({ cursor: 'bogus' }), code('FG_CURSOR'));
    await assert.rejects(j.list({ limit: 0 }), code('FG_USAGE'));
  });
});
