import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPaths } from '../../core/config/paths';
import { TestServer } from '../helpers/server';
import { createAccount, JournalProbe } from './engine-support';

// The server runs its compiled sources (bin/build.js) while a TypeScript plugin imports the
// plugin API from the sources: both must be the same modules, or the plugin's FileRejection is
// not the engine's and its rejection turns into a handler failure (FG_HANDLER_FAILED, retried).
test('a TypeScript plugin\'s own rejectFile rejects the file with its code', async () => {
  const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-rej-'));
  writeFileSync(join(workflows, 'rej.yaml'), [
    'flux: rej', 'match: {profile: exchange, directory: in/rej}', 'naming: {extensions: [csv]}',
    'steps: [handler, report, archive]', 'on-error: [report, quarantine]', '',
  ].join('\n'));
  const server = new TestServer({
    config: { plugins: [join(__dirname, '..', 'fixtures', 'plugins', 'rejecting.ts')], workflowsDir: workflows, pgp: { signReports: false } },
  });
  const paths = new DataPaths(server.dataDir);
  createAccount(server, 'acme');
  mkdirSync(join(paths.accountRoot('acme'), 'in', 'rej'));
  await server.start();
  const probe = new JournalProbe(server);
  try {
    const name = 'ndmat_acme_acme_rej_261121140000.csv';
    const target = join(paths.accountRoot('acme'), 'in', 'rej', name);
    writeFileSync(`${target}.filepart`, 'a;b\n1;2\n');
    renameSync(`${target}.filepart`, target);
    const file = await probe.finished(name);
    assert.equal(file.state, 'rejected');
    assert.equal(file.outcome?.code, 'FG_ZIP_UNSAFE');
    assert.equal(file.attempts, 1); // a rejection is final, not retried
  } finally {
    probe.close();
    await server.cleanup();
  }
});
