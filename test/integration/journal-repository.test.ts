import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFluxgateError } from '../../core/errors';
import { openDatabase, type Database } from '../../core/store/database';
import { SqliteJournalRepository, type NewJournalFile } from '../../core/store/journal-repository';

// The journal on a real SQLite file (WAL, every migration), as the server and the CLI open it.
function journalDb(): Database {
  return openDatabase(join(mkdtempSync(join(tmpdir(), 'fg-journal-')), 'fluxgate.db'));
}

function upload(account: string, i: number, flux = 'sal'): NewJournalFile {
  const name = `ndmat_${account}_${account}_${flux}_${String(i).padStart(6, '0')}.csv`;
  return {
    accountId: account, profile: 'exchange', flux, workflow: flux, originalPath: `in/${flux}/${name}`, name, size: 10 + i,
    sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: `/data/sftp/${account}/in/${flux}/${name}`,
  };
}

test('a transition writes its state and its event in one transaction, and returns the row as it now is', async () => {
  const db = journalDb();
  const journal = new SqliteJournalRepository(db);
  const f = (await journal.insert(upload('acme', 1), 1_000))!;
  assert.equal(f.state, 'received');
  assert.deepEqual((await journal.events(f.id)).map((e) => e.type), ['received']);

  const started = await journal.startAttempt(f.id, 1, 5, 'sal');
  assert.deepEqual([started.state, started.attempts, started.workflow], ['processing', 1, 'sal'], 'the fresh row, not the one before');
  const finished = await journal.finish(f.id, 'processed', { result: 'processed', summary: 'ok' }, { at: 5_000 });
  assert.deepEqual([finished.state, finished.processedAt, finished.outcome?.summary], ['processed', 5_000, 'ok']);
  assert.deepEqual((await journal.events(f.id)).map((e) => e.type), ['received', 'attempt', 'processed']);

  // The event cannot be written (as when the disk is full between the two): the state is not either.
  const g = (await journal.insert(upload('acme', 2)))!;
  db.exec(`CREATE TEMP TRIGGER refuse_attempt BEFORE INSERT ON file_events WHEN NEW.type = 'attempt'
    BEGIN SELECT RAISE(ABORT, 'event refused'); END`);
  await assert.rejects(async () => await journal.startAttempt(g.id, 1, 5, 'sal'), /event refused/);
  assert.equal((await journal.get(g.id))!.state, 'received', 'no state without its event');
  assert.equal((await journal.get(g.id))!.attempts, 0);
  db.close();
});

test('statements are prepared once: a file\'s whole life prepares nothing after the first', async () => {
  const db = journalDb();
  let prepared = 0;
  const prepare = db.prepare.bind(db);
  (db as { prepare: typeof db.prepare }).prepare = ((sql: string) => { prepared++; return prepare(sql); });
  const journal = new SqliteJournalRepository(db);
  const life = async (i: number): Promise<void> => {
    const f = (await journal.insert(upload('acme', i)))!;
    await journal.liveAt(f.location);
    await journal.startAttempt(f.id, 1, 5, 'sal');
    await journal.update(f.id, { receiptPath: `/r/${i}` });
    await journal.change(f.id, { receiptWrittenAt: Date.now() }, { type: 'receipt' });
    await journal.receiptPathTaken(`/r/${i}`, f.id);
    await journal.recordOutput(f.id, 'acme', 'report', `/o/${i}`);
    await journal.addEvent(f.id, 'step', { step: 'handler', ms: 1 });
    await journal.moved(f.id, `/archive/${i}`, 'archived', {});
    await journal.finish(f.id, 'processed', { result: 'processed' });
    await journal.get(f.id);
    await journal.events(f.id);
    await journal.list({ accountId: 'acme', state: 'processed', limit: 10 });
  };
  await life(1);
  const afterFirst = prepared;
  for (let i = 2; i <= 50; i++) await life(i);
  assert.equal(prepared, afterFirst, `${prepared - afterFirst} statements prepared again for 49 more files`);
  db.close();
});

test('pages: newest first, every row exactly once through the cursors, with each filter', async () => {
  const db = journalDb();
  const journal = new SqliteJournalRepository(db);
  const t0 = Date.UTC(2026, 10, 1);
  // Three accounts, two fluxes, several rows per millisecond (ties are ordered by id).
  for (let i = 0; i < 250; i++) {
    const f = (await journal.insert(upload(['acme', 'initech', 'globex'][i % 3], i, i % 5 === 0 ? 'sir' : 'sal'), t0 + Math.floor(i / 4)))!;
    if (i % 7 === 0) await journal.finish(f.id, 'rejected', { result: 'rejected', code: 'FG_NAME_CONVENTION' });
  }
  const all = (await journal.list({ limit: 10_000 })).files;
  assert.equal(all.length, 250);
  for (let i = 1; i < all.length; i++) {
    const [a, b] = [all[i - 1], all[i]];
    assert.ok(a.receivedAt > b.receivedAt || (a.receivedAt === b.receivedAt && a.id > b.id), 'newest first');
  }
  const paged = async (query: Parameters<SqliteJournalRepository['list']>[0]): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await journal.list({ ...query, cursor });
      ids.push(...page.files.map((f) => f.id));
      if (!page.nextCursor) return ids;
      cursor = page.nextCursor;
    }
    throw new Error('no last page');
  };
  assert.deepEqual(await paged({ limit: 7 }), all.map((f) => f.id));
  const expect = (pred: (f: (typeof all)[number]) => boolean): string[] => all.filter(pred).map((f) => f.id);
  assert.deepEqual(await paged({ accountId: 'initech', limit: 9 }), expect((f) => f.accountId === 'initech'));
  assert.deepEqual(await paged({ accountId: 'acme', state: 'rejected', limit: 2 }), expect((f) => f.accountId === 'acme' && f.state === 'rejected'));
  assert.deepEqual(await paged({ state: 'received', flux: 'sir', limit: 5 }), expect((f) => f.state === 'received' && f.flux === 'sir'));
  assert.deepEqual(await paged({ since: t0 + 40, limit: 11 }), expect((f) => f.receivedAt >= t0 + 40));
  assert.deepEqual(await paged({ q: 'GLOBEX_SIR', limit: 3 }), expect((f) => f.name.includes('globex_sir')), 'q: part of the name, any case');
  assert.deepEqual((await journal.list({ q: all[17].id })).files.map((f) => f.id), [all[17].id], 'q: a file id');
  assert.equal((await journal.list({ accountId: 'nobody' })).nextCursor, null);

  await assert.rejects(async () => await journal.list({ cursor: 'not-a-cursor' }), (err) => isFluxgateError(err, 'FG_CURSOR') && /nextCursor a previous page gave/.test(err.message));
  await assert.rejects(async () => await journal.list({ limit: 0 }), (err) => isFluxgateError(err, 'FG_USAGE'));
  db.close();
});
