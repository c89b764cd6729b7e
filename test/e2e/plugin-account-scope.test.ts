import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPaths } from '../../core/config/paths';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRows } from '../../core/store/directory-rows';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

// Hostile plugins (test/fixtures/plugins) loaded through config `plugins:`, as an integrator's:
// one processing a file of acme asks ctx.directory for globex's employees, one asks in its
// manifest to write into globex's tree. Both are refused with a code; globex's data stays unseen.
const PLUGINS = join(__dirname, '..', 'fixtures', 'plugins');
const SECRET = 'Globex-Secret-Lastname';

function workflowsFor(flux: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fg-wf-${flux}-`));
  writeFileSync(join(dir, `${flux}.yaml`), [
    `flux: ${flux}`, `match: {profile: exchange, directory: in/${flux}}`, 'naming: {extensions: [csv]}',
    'steps: [handler, report, archive]', 'on-error: [report, quarantine]', '',
  ].join('\n'));
  return dir;
}

describe('a handler cannot reach another account through ctx.directory', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const server = new TestServer({ config: { plugins: [join(PLUGINS, 'other-account.ts')], workflowsDir: workflowsFor('peek'), pgp: { signReports: false } } });
  const paths = new DataPaths(server.dataDir);
  let key: TestKey;
  let probe: JournalProbe;

  before(async () => {
    key = await createAccount(server, 'acme');
    await createAccount(server, 'globex');
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'peek'));
    const db = openDatabase(paths.database);
    try {
      new SqliteDirectoryRows(db).upsertEmployee('globex', {
        organizationCode: 'GLOBEX', registrationReference: '0001', technicalId: null, email: 'ceo@globex.example',
        lastname: SECRET, firstname: 'Hank', active: true, departureDate: null, attributes: {},
      });
    } finally {
      db.close();
    }
    await server.start();
    probe = new JournalProbe(server);
  });
  after(async () => {
    await server.cleanup();
  });

  test('listEmployees(\'globex\') from a file of acme: FG_PLUGIN_PERMISSION, dead at once, nothing of globex in the report', async () => {
    const local = join(mkdtempSync(join(tmpdir(), 'fg-peek-')), 'ndmat_acme_acme_peek_261121150000.csv');
    writeFileSync(local, 'globex\n');
    const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/peek/`]);
    assert.equal(put.code, 0, put.stderr);
    const file = await probe.finished('ndmat_acme_acme_peek_261121150000.csv');
    assert.equal(file.state, 'dead');
    assert.equal(file.outcome?.code, 'FG_PLUGIN_PERMISSION', JSON.stringify(file.outcome));
    assert.equal(file.attempts, 1, 'a permission refusal is the plugin\'s bug: not retried');
    assert.match(file.outcome?.summary ?? '', /ctx\.directory\.listEmployees .*"globex".*bound to account "acme"/);
    const report = readFileSync(file.reportPath!, 'utf8');
    assert.match(report, /own account: 0 employees/, 'the bound call works');
    assert.match(report, /FG_PLUGIN_PERMISSION/);
    assert.ok(!report.includes(SECRET), 'globex\'s employee is not in acme\'s report');
  });
});

describe('a manifest granting another account\'s tree is refused at load', () => {
  const server = new TestServer({ config: { plugins: [join(PLUGINS, 'escaping-grant.ts')], workflowsDir: workflowsFor('grab') } });
  after(async () => { await server.cleanup(); });

  test('workflows check reports FG_PLUGIN_INVALID with the grant, and serve refuses to start', async () => {
    const check = await server.cli('workflows', 'check');
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /error .*escaping-grant\.ts plugins: FG_PLUGIN_INVALID: handler EscapingGrantHandler .*permissions\.write grant "\.\.\/globex\/out\/sal" contains "\.\."/);
    const json = JSON.parse((await server.cli('workflows', 'check', '--json')).stdout) as { valid: boolean; problems: Array<{ message: string }> };
    assert.equal(json.valid, false);
    assert.ok(json.problems.some((p) => p.message.startsWith('FG_PLUGIN_INVALID')), JSON.stringify(json.problems));
    await assert.rejects(server.start(), /grant "\.\.\/globex\/out\/sal" contains "\.\.".*\[FG_PLUGIN_INVALID\]/);
  });
});

describe('a plugin written for plugin API 1 (the synchronous directory) is refused at load, saying what to change', () => {
  const server = new TestServer({ config: { plugins: [join(PLUGINS, 'api-v1.ts')], workflowsDir: workflowsFor('old') } });
  after(async () => { await server.cleanup(); });

  test('workflows check reports FG_PLUGIN_INVALID with the migration, and serve refuses to start', async () => {
    const check = await server.cli('workflows', 'check');
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /error .*api-v1\.ts plugins: FG_PLUGIN_INVALID: handler ApiOneHandler .*apiVersion 1 is plugin API 1, whose ctx\.directory was synchronous; .*Await each ctx\.directory call, put the writes that must apply together in one ctx\.directory\.batch\(ops\), and write apiVersion: 2/);
    await assert.rejects(server.start(), /ApiOneHandler .*apiVersion 1 is plugin API 1.*\[FG_PLUGIN_INVALID\]/s);
  });
});
