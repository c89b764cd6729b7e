import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../core/store/database';
import { SqliteJournalRepository, type JournalQuery } from '../../core/store/journal-repository';
import { leaseOf, SqliteQueueRepository } from '../../core/store/queue-repository';
import { SqliteRetentionRepository } from '../../core/store/retention-repository';
import { SqliteTombstoneRepository } from '../../core/store/tombstones-repository';

/**
 * With a million files in the journal, what runs per upload (intake, the workflow's transitions,
 * the queue), per CLI query (`fluxgate files`, `files show`) and per retention run must read the
 * rows it needs through an index, never the whole table, and a page of the journal must come in
 * index order (a sort would read every match first). Checked on the query plans SQLite makes
 * for every statement those paths prepare (EXPLAIN QUERY PLAN), not on timings:
 * `npm run bench:journal` measures those.
 */
test('every statement of intake, the workflow, the queue, `files` and retention reads through an index, and pages need no sort', async () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'fg-plans-')), 'fluxgate.db'));
  const statements = new Set<string>();
  const prepare = db.prepare.bind(db);
  (db as { prepare: typeof db.prepare }).prepare = ((sql: string) => { statements.add(sql); return prepare(sql); });

  const journal = new SqliteJournalRepository(db);
  const queue = new SqliteQueueRepository(db);
  const retention = new SqliteRetentionRepository(db);
  const tombstones = new SqliteTombstoneRepository(db, journal);
  const lists: string[] = [];
  const at = Date.UTC(2026, 10, 1);
  const f = (await journal.insert({
    accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/x.csv', name: 'x.csv', size: 1,
    sha1: 'a', sha256: 'b', location: '/d/sftp/acme/in/sal/x.csv',
  }, at))!;
  await journal.liveAt(f.location);
  await queue.insert({ topic: 'file.process', payload: { fileId: f.id }, dedupKey: f.id, accountId: 'acme', maxAttempts: 5 });
  const [job] = await queue.claim({ topic: 'file.process', leaseMs: 60_000, max: 2, perAccount: 1, held: { other: 1 } });
  await queue.renew(leaseOf(job), 60_000);
  await journal.startAttempt(f.id, 1, 5, 'sal');
  await journal.receiptPathTaken('/d/sftp/acme/out/tra/r.xml', f.id);
  await journal.update(f.id, { receiptPath: '/d/sftp/acme/out/tra/r.xml' });
  await journal.recordOutput(f.id, 'acme', 'receipt', '/d/sftp/acme/out/tra/r.xml');
  await journal.moved(f.id, '/d/archive/acme/sal/x.csv', 'archived', {});
  await journal.finish(f.id, 'processed', { result: 'processed' }, { lease: leaseOf(job) });
  await queue.complete(leaseOf(job));
  await queue.nextDue('file.process');
  await queue.releaseAllLeases();
  await journal.markInterrupted();
  await journal.live();
  await journal.get(f.id);
  await journal.events(f.id);
  // Every combination of the page filters, first pages and next pages.
  const filters: Array<keyof JournalQuery> = ['accountId', 'state', 'flux', 'since', 'q', 'cursor'];
  const cursor = (await journal.list({ limit: 1 })).nextCursor ?? Buffer.from(`${at}:${f.id}`).toString('base64url');
  const values: JournalQuery = { accountId: 'acme', state: 'rejected', flux: 'sal', since: at, q: 'x', cursor };
  for (let mask = 0; mask < 1 << filters.length; mask++) {
    const query: JournalQuery = {};
    filters.forEach((k, i) => { if (mask & (1 << i)) Object.assign(query, { [k]: values[k] }); });
    const before = new Set(statements);
    await journal.list(query);
    for (const sql of statements) if (!before.has(sql)) lists.push(sql);
  }
  for await (const row of retention.finishedInputs({ processedBefore: at + 1, receivedBefore: at + 1 })) assert.ok(row.fileId);
  await retention.journalRowAt('/d/sftp/acme/in/sal/y.csv');
  await retention.latestOutput('acme', '/d/sftp/acme/out/tra/r.xml');
  await retention.replaceSeen('acme', [{ path: '/d/sftp/acme/out/z', accountId: 'acme', inode: '1:2:3', firstSeenAt: at }]);
  await retention.seen('acme');
  const t = await tombstones.intend({
    fileId: f.id, accountId: 'acme', path: '/d/archive/acme/sal/x.csv', name: 'x.csv', size: 1, sha256: 'b', rule: 'archive',
    deletedAt: at, asOf: at, inode: null, detail: {},
  });
  await tombstones.confirm(t.id);
  await tombstones.pending();

  const problems: string[] = [];
  for (const sql of statements) {
    if (!/\b(files|file_events|outputs|queue|tombstones|retention_seen)\b/.test(sql) || /^\s*(CREATE|INSERT INTO schema|PRAGMA)/i.test(sql)) continue;
    const names = Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1], 1]));
    const positional = (sql.match(/\?/g) ?? []).map(() => 1);
    const explain = prepare(`EXPLAIN QUERY PLAN ${sql}`);
    const plan = (Object.keys(names).length ? explain.all(names) : explain.all(...positional)) as Array<{ detail: string }>;
    const lines = plan.map((p) => p.detail);
    // A page with none of the indexed filters (account, state, flux) walks the (received_at, id)
    // index newest first and stops when the page is full (a search by part of a name included).
    const walksByTime = /^SELECT \* FROM files\b/.test(sql) && !/account_id =|state =|flux =/.test(sql);
    for (const line of lines) {
      if (walksByTime && /^(SCAN|SEARCH) files USING INDEX files_received\b/.test(line)) continue;
      if (/^SCAN (files|file_events|outputs|queue|tombstones|retention_seen)\b/.test(line)) problems.push(`${line}\n    in ${sql.replace(/\s+/g, ' ')}`);
      if (/^SELECT \* FROM files\b.*ORDER BY received_at DESC/s.test(sql) && /TEMP B-TREE/.test(line)) problems.push(`${line} (a page must come in index order)\n    in ${sql.replace(/\s+/g, ' ')}`);
    }
  }
  assert.ok(lists.length >= 32, `${lists.length} page statements checked`);
  assert.deepEqual(problems, []);
  db.close();
});
