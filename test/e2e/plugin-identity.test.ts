import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DataPaths } from '../../core/config/paths';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { createAccount, JournalProbe } from './engine-support';

// The server runs its built distribution (dist/) while a plugin imports the plugin API (by the
// package name, or a TypeScript plugin by the sources' path): both must reach the same modules,
// or the plugin's FileRejection is not the engine's and its rejection turns into a handler
// failure (FG_HANDLER_FAILED, retried).
const FIXTURES = join(__dirname, '..', 'fixtures', 'plugins');

async function assertRejectsWithItsOwnCode(plugin: string): Promise<void> {
  const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-rej-'));
  writeFileSync(join(workflows, 'rej.yaml'), [
    'flux: rej', 'match: {profile: exchange, directory: in/rej}', 'naming: {extensions: [csv]}',
    'steps: [handler, report, archive]', 'on-error: [report, quarantine]', '',
  ].join('\n'));
  const server = new TestServer({ config: { plugins: [plugin], workflowsDir: workflows, pgp: { signReports: false } } });
  const paths = new DataPaths(server.dataDir);
  await createAccount(server, 'acme');
  mkdirSync(join(paths.accountRoot('acme'), 'in', 'rej'));
  await server.start();
  const probe = new JournalProbe(server);
  try {
    const name = 'ndmat_acme_acme_rej_261121140000.csv';
    const target = join(paths.accountRoot('acme'), 'in', 'rej', name);
    writeFileSync(`${target}.filepart`, 'a;b\n1;2\n');
    renameSync(`${target}.filepart`, target);
    const file = await probe.finished(name);
    assert.equal(file.state, 'rejected', JSON.stringify(file.outcome));
    assert.equal(file.outcome?.code, 'FG_ZIP_UNSAFE');
    assert.equal(file.attempts, 1); // a rejection is final, not retried
  } finally {
    await server.cleanup();
  }
}

/** The outside/ fixture plugins copied to a folder outside the repository, as an integrator's. */
function pluginOutsideRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-plugin-'));
  assert.ok(!dir.startsWith(REPO_ROOT));
  cpSync(join(FIXTURES, 'outside'), dir, { recursive: true });
  return dir;
}

test('a TypeScript plugin importing the plugin API from the sources\' path rejects the file with its code', async () => {
  await assertRejectsWithItsOwnCode(join(FIXTURES, 'rejecting.ts'));
});

test('a JavaScript plugin outside the repository imports fluxgate/plugin-api and rejects the file with its code', async () => {
  // No node_modules beside it: the server resolves `fluxgate` to itself.
  await assertRejectsWithItsOwnCode(join(pluginOutsideRepository(), 'rejecting.js'));
});

test('a TypeScript plugin outside the repository type-checks against fluxgate/plugin-api and rejects the file with its code', async () => {
  const dir = pluginOutsideRepository();
  // Types come through the package's `exports` (dist/core/plugin-api/index.d.ts), with fluxgate
  // linked into the plugin's node_modules as `npm install <path to fluxgate>` does.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'fluxgate'));
  const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);
  await assertRejectsWithItsOwnCode(join(dir, 'rejecting.ts'));
});
