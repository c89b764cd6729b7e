import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPaths } from '../../core/config/paths';
import { run, sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';
import { until } from '../helpers/wait';

// Issue #23's "done when": a third-party plugin in its own folder outside the repository is
// written (fluxgate plugin init), unit-tested with createTestContext (its own npm test), run on
// a file with fluxgate plugin test, and served, listed under plugins: by its npm package name.
const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');
const SAMPLE = 'ndmat_acme_acme_thirdp_261121090000.csv';

describe('a third-party plugin, from plugin init to serving', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const outside = mkdtempSync(join(tmpdir(), 'fg-third-party-'));
  const dir = join(outside, 'fluxgate-plugin-thirdp');
  let server: TestServer;
  let key: TestKey;
  let probe: JournalProbe;

  before(async () => {
    const init = await run(process.execPath, [BIN, 'plugin', 'init', 'thirdp', '--dir', dir, '--json'], { cwd: outside });
    assert.equal(init.code, 0, init.stderr);
    // What `npm install` does with the package.json it wrote (fluxgate from this install, tsx),
    // without the registry: links.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'fluxgate'));
    symlinkSync(join(REPO_ROOT, 'node_modules', 'tsx'), join(dir, 'node_modules', 'tsx'));
  });
  after(async () => {
    await server?.cleanup();
  });

  test('plugin init writes a handler, a workflow, a sample and a test', () => {
    const files = readdirSync(dir).sort();
    for (const f of ['handler.ts', 'index.ts', 'package.json', 'sample', 'thirdp.test.ts', 'thirdp.yaml', 'tsconfig.json']) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  });

  test('its unit test (createTestContext from fluxgate/plugin-api/testing) passes where it stands', async () => {
    // As the integrator runs it: not as a subtest of this run (which NODE_TEST_CONTEXT would make it).
    const r = await run(process.execPath, ['--import', 'tsx', '--test', 'thirdp.test.ts'], { cwd: dir, env: { NODE_TEST_CONTEXT: undefined } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /pass 1/);
  });

  test('fluxgate plugin test runs it on the sample and changes nothing', async () => {
    const data = join(outside, 'no-data');
    const r = await run(process.execPath, [BIN, '--data-dir', data, 'plugin', 'test', join(dir, 'index.ts'), join(dir, 'sample', SAMPLE), '--json'], { cwd: outside });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { result: string; counts: Record<string, number>; messages: Array<{ line?: number; severity: string }>; applied: boolean };
    assert.equal(out.result, 'processed');
    assert.deepEqual(out.counts, { created: 2, updated: 0, unchanged: 0, rejected: 1 });
    assert.ok(out.messages.some((m) => m.line === 4 && m.severity === 'error'));
    assert.equal(out.applied, false);
    assert.throws(() => readdirSync(data), /ENOENT/, 'no data directory was made');
  });

  test('served by its npm package name under plugins:, in its sandbox: the sample uploaded over SFTP is processed and reported', async () => {
    const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-thirdp-'));
    copyFileSync(join(dir, 'thirdp.yaml'), join(workflows, 'thirdp.yaml'));
    server = new TestServer({ config: { plugins: ['fluxgate-plugin-thirdp'], workflowsDir: workflows, pgp: { signReports: false } } });
    // Installed beside the config file as npm would (node_modules/<name>, its package.json's main).
    mkdirSync(join(server.dir, 'node_modules'));
    symlinkSync(dir, join(server.dir, 'node_modules', 'fluxgate-plugin-thirdp'));
    key = await createAccount(server, 'acme');
    const paths = new DataPaths(server.dataDir);
    await server.start();
    // The scaffold's workflow declares its folders (createFolders): nobody makes in/thirdp by hand.
    await until('in/thirdp and out/thirdp made', () => existsSync(join(paths.accountRoot('acme'), 'in', 'thirdp')) && existsSync(join(paths.accountRoot('acme'), 'out', 'thirdp')));
    probe = new JournalProbe(server);
    const loaded = server.logs.find((l) => String(l.msg).startsWith('plugin module loaded (sandboxed)'));
    assert.match(String(loaded?.module), /fluxgate-plugin-thirdp\/index\.ts$/);
    const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${join(dir, 'sample', SAMPLE)} in/thirdp/`]);
    assert.equal(put.code, 0, put.stderr);
    const file = await probe.finished(SAMPLE);
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
    assert.deepEqual(file.outcome?.counts, { created: 2, updated: 0, unchanged: 0, rejected: 1 });
    const report = readFileSync(file.reportPath!, 'utf8');
    assert.match(report, /FG_REQUIRED/);
  });
});
