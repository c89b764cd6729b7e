import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { skipUnless } from '../helpers/tools';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import { addAccount, directory, FIXTURES, uploadAndWait, type FileView } from './fixtures-support';

// `account remove` while the server runs, after real uploads were processed: everything of the
// account leaves the live data for one folder of <data>/removed/, and an account added again
// with the same id starts empty (no journal, no directory: its sal upload creates everyone).
const SIR = join(FIXTURES, 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv');
const SAL = join(FIXTURES, 'exchange', 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
const skip = skipUnless('sftp', 'ssh-keygen');
let server: TestServer;
let key: TestKey;

before(async () => {
  if (skip) return;
  server = new TestServer();
  await server.start();
  key = await addAccount(server, 'acme');
});
after(async () => { await server?.cleanup(); });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile()).sort();
}

async function filesOf(account: string): Promise<FileView[]> {
  const r = await server.cli('files', '--account', account, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as FileView[];
}

interface DirectoryExport { format: string; accountId: string; organizations: Array<Record<string, unknown>>; employees: Array<{ registration_reference: string; data: Record<string, unknown> }>; users: unknown[]; documents: unknown[] }
interface JournalExport { format: string; files: Array<{ id: string; name: string; state: string; events: Array<{ type: string }> }>; outputs: Array<{ kind: string; path: string }> }

test('remove moves the trees and an export of the rows aside; the same id added again starts empty', { skip }, async () => {
  const sir = await uploadAndWait(server, 'acme', key, SIR, 'in/sir/');
  assert.equal(sir.state, 'processed', JSON.stringify(sir.outcome));
  const sal = await uploadAndWait(server, 'acme', key, SAL, 'in/sal/');
  assert.equal(sal.state, 'processed', JSON.stringify(sal.outcome));
  assert.equal(sal.outcome?.counts?.created, 60);

  const removed = await server.cli('account', 'remove', 'acme');
  assert.equal(removed.code, 0, removed.stderr);
  const folder = /moved to (\S+)/.exec(removed.stdout)?.[1] ?? '';
  assert.ok(folder.startsWith(join(server.dataDir, 'removed', 'acme-')), removed.stdout);
  // The command says where each thing went.
  assert.match(removed.stdout, new RegExp(`^  sftp/\\s+was ${join(server.dataDir, 'sftp', 'acme')}$`, 'm'));
  assert.match(removed.stdout, new RegExp(`^  archive/\\s+was ${join(server.dataDir, 'archive', 'acme')}$`, 'm'));
  assert.match(removed.stdout, /^ {2}directory\.json\s+7 organizations, 60 employees, 0 users, 0 documents$/m);
  assert.match(removed.stdout, /^ {2}journal\.json\s+2 journal files with \d+ events, \d+ outputs$/m);

  // Every data root left the live data; the tree and the archived inputs are in the folder.
  for (const root of ['sftp', 'archive', 'quarantine', 'vault', 'work']) {
    assert.equal(existsSync(join(server.dataDir, root, 'acme')), false, `${root}/acme moved`);
  }
  const moved = filesUnder(folder);
  const inTree = (report: string | null): string => join('sftp', relative(join(server.dataDir, 'sftp', 'acme'), resolve(server.dataDir, 'sftp', 'acme', report!)));
  assert.ok(moved.includes(inTree(sal.report)), `the sal report is in sftp/: ${moved.join(' ')}`);
  assert.ok(moved.includes(inTree(sir.report)), 'the sir report too');
  assert.ok(moved.includes(join('archive', 'sal', `${sal.id}_${sal.name}`)), `the archived sal input: ${moved.join(' ')}`);
  assert.ok(moved.includes(join('archive', 'sir', `${sir.id}_${sir.name}`)), 'the archived sir input');

  // The exports hold the rows the database no longer does.
  const dir = JSON.parse(readFileSync(join(folder, 'directory.json'), 'utf8')) as DirectoryExport;
  assert.equal(dir.format, 'fluxgate-removed-directory/1');
  assert.equal(dir.accountId, 'acme');
  assert.equal(dir.organizations.length, 7);
  assert.equal(dir.employees.length, 60);
  assert.equal(dir.employees.find((e) => e.registration_reference === '000017')!.data.address2, 'Bât. B; Esc 3', 'attributes decoded');
  const journal = JSON.parse(readFileSync(join(folder, 'journal.json'), 'utf8')) as JournalExport;
  assert.deepEqual(journal.files.map((f) => [f.id, f.name, f.state]), [[sir.id, sir.name, 'processed'], [sal.id, sal.name, 'processed']]);
  for (const f of journal.files) assert.deepEqual([f.events[0].type, f.events.at(-1)!.type], ['received', 'processed']);
  assert.ok(journal.outputs.some((o) => o.kind === 'report' && o.path.endsWith(sal.name.replace(/^ndmat_/, 'cdmat_'))), JSON.stringify(journal.outputs));
  const manifest = JSON.parse(readFileSync(join(folder, 'removal.json'), 'utf8')) as {
    finishedAt: string | null; account: { id: string; keys: Array<{ fingerprint: string }> }; moved: Array<{ name: string; to: string }>;
  };
  assert.notEqual(manifest.finishedAt, null);
  assert.equal(manifest.account.keys[0].fingerprint, key.fingerprint);
  assert.ok(manifest.moved.some((m) => m.name === 'sftp') && manifest.moved.some((m) => m.name === 'archive'), JSON.stringify(manifest.moved));
  for (const m of manifest.moved) assert.ok(statSync(join(folder, m.to)).isDirectory(), m.to);

  // No account any more, and nothing of it in the journal.
  assert.match((await server.cli('account', 'show', 'acme')).stderr, /FG_ACCOUNT_NOT_FOUND/);
  assert.deepEqual(await filesOf('acme'), []);

  // The same id again: an empty account, whose sal upload creates every employee again.
  const again = await addAccount(server, 'acme');
  assert.deepEqual(await filesOf('acme'), []);
  assert.deepEqual(await directory(server, 'employees', 'acme'), []);
  assert.deepEqual(await directory(server, 'organizations', 'acme'), []);
  const sir2 = await uploadAndWait(server, 'acme', again, SIR, 'in/sir/');
  assert.equal(sir2.outcome?.counts?.created, 7, JSON.stringify(sir2.outcome));
  const sal2 = await uploadAndWait(server, 'acme', again, SAL, 'in/sal/');
  assert.equal(sal2.state, 'processed', JSON.stringify(sal2.outcome));
  assert.deepEqual({ ...sal2.outcome?.counts }, { created: 60, updated: 0, unchanged: 0, rejected: 0 });
  assert.deepEqual((await filesOf('acme')).map((f) => f.id), [sal2.id, sir2.id], 'newest first');
});
