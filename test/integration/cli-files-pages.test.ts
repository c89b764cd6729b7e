import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataPaths } from '../../core/config/paths';
import { openDatabase } from '../../core/store/database';
import { SqliteJournalRepository } from '../../core/store/journal-repository';
import { TestServer } from '../helpers/server';

// `fluxgate files` on a journal longer than a page: newest first, a page at a time, and the line
// that gives the next page. No server runs: the CLI reads the journal written here.
let server: TestServer;
const ids: string[] = [];

before(async () => {
  server = new TestServer();
  const db = openDatabase(new DataPaths(server.dataDir).database);
  const journal = new SqliteJournalRepository(db);
  for (let i = 0; i < 5; i++) {
    const name = `ndmat_acme_acme_sal_hrmanager_v6_26112009000${i}.csv`;
    const f = (await journal.insert({
      accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: `in/sal/${name}`, name, size: 1,
      sha1: 'a', sha256: 'b', location: `${server.dataDir}/sftp/acme/in/sal/${name}`,
    }, Date.UTC(2026, 10, 20, 9, 0, i)))!;
    if (i !== 2) await journal.finish(f.id, 'rejected', { result: 'rejected', code: 'FG_NAME_CONVENTION' });
    ids.push(f.id);
  }
  db.close();
});

after(async () => { await server.cleanup(); });

test('files: newest first, --limit files a page, and the command for the next page', async () => {
  const first = await server.cli('files', '--account', 'acme', '--state', 'rejected', '--limit', '2');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual([...first.stdout.matchAll(/^(f_\S+)/gm)].map((m) => m[1]), [ids[4], ids[3]]);
  const next = /^more files: (fluxgate files .*--cursor (\S+))$/m.exec(first.stdout);
  assert.ok(next, first.stdout);
  assert.match(next[1], /--account acme --state rejected --limit 2/);
  const second = await server.cli('files', '--account', 'acme', '--state', 'rejected', '--limit', '2', '--cursor', next[2]);
  assert.deepEqual([...second.stdout.matchAll(/^(f_\S+)/gm)].map((m) => m[1]), [ids[1], ids[0]], 'the received file is not rejected');
  assert.doesNotMatch(second.stdout, /more files/, 'the last page says nothing more');

  // --json stays an array of files; the next page's command goes to stderr.
  const json = await server.cli('files', '--limit', '3', '--json');
  assert.deepEqual((JSON.parse(json.stdout) as Array<{ id: string }>).map((f) => f.id), [ids[4], ids[3], ids[2]]);
  assert.match(json.stderr, /^more files: fluxgate files --limit 3 --json --cursor \S+$/m);
  const found = await server.cli('files', '--search', 'V6_261120090002', '--json');
  assert.deepEqual((JSON.parse(found.stdout) as Array<{ id: string }>).map((f) => f.id), [ids[2]]);
});

test('files: a cursor that no page gave, or a bad page size, is refused with a code', async () => {
  const bad = await server.cli('files', '--cursor', 'bm90LWEtY3Vyc29y');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not a page cursor of the journal.*\[FG_CURSOR\]/);
  const limit = await server.cli('files', '--limit', '0');
  assert.notEqual(limit.code, 0);
  assert.match(limit.stderr, /--limit.*whole number from 1 to 10000/);
});
