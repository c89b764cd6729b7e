import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from '../e2e/engine-support';

const skip = skipUnless('sftp', 'ssh-keygen');

/**
 * Two workflows share in/echo with patterns that overlap on some names: the loader cannot rule
 * that out for regular expressions, so such a file is rejected and kept, naming both, rather
 * than taken by whichever workflow was loaded first.
 */
describe('a file that several workflows match', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'fg-ambiguous-'));
  const workflows = join(work, 'workflows');
  const other = join(workflows, 'other.yaml');
  let server: TestServer;
  let probe: JournalProbe;
  let key: TestKey;

  const otherWorkflow = (pattern: string) =>
    `flux: other\nhandler: echo\nmatch:\n  directory: in/echo\n  pattern: '${pattern}'\nsteps: [handler, archive]\n`;

  before(async () => {
    mkdirSync(workflows);
    const echo = readFileSync(join(REPO_ROOT, 'workflows', 'echo.yaml'), 'utf8');
    writeFileSync(join(workflows, 'echo.yaml'), echo.replace('  directory: in/echo\n', () => "  directory: in/echo\n  pattern: '\\.csv$'\n"));
    cpSync(join(REPO_ROOT, 'workflows', 'workflow.schema.json'), join(workflows, 'workflow.schema.json'));
    writeFileSync(other, otherWorkflow('_2611201201'));
    server = new TestServer({ config: { workflowsDir: workflows, pgp: { signReports: false, keyType: 'curve25519' } } });
    key = await createAccount(server, 'acme');
    mkdirSync(join(new DataPaths(server.dataDir).accountRoot('acme'), 'in', 'echo'));
    await server.start();
    probe = new JournalProbe(server);
  });
  after(async () => {
    await server?.cleanup();
  });

  const upload = async (name: string, content: string) => {
    const local = join(work, name);
    writeFileSync(local, content);
    const r = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} /in/echo/${name}`]);
    assert.equal(r.code, 0, r.stderr);
    return probe.finished(name);
  };

  test('a name only one pattern matches goes to that workflow', async () => {
    const f = await upload('ndmat_acme_acme_echo_261120120000.csv', 'a\nb\n');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.workflow, 'echo');
  });

  test('a name both patterns match is rejected with FG_WORKFLOW_AMBIGUOUS, kept, and can be replayed once fixed', async () => {
    const name = 'ndmat_acme_acme_echo_261120120100.csv';
    const f = await upload(name, 'a\nb\nc\n');
    assert.equal(f.state, 'rejected');
    const outcome = f.outcome!;
    assert.equal(outcome.code, 'FG_WORKFLOW_AMBIGUOUS');
    assert.match(outcome.summary ?? '', /matches 2 workflows: echo\.yaml \(flux "echo", pattern \\\.csv\$\), other\.yaml \(flux "other", pattern _2611201201\)/);
    assert.ok(existsSync(f.location), `the rejected file is kept at ${f.location}`);

    // The operator makes the patterns exclusive (hot reload), then replays the kept file.
    writeFileSync(other, otherWorkflow('\\.txt$'));
    await server.waitForLog((l) => l.msg === 'workflow reloaded' && l.flux === 'other', 10_000);
    const replay = await server.cli('replay', f.id);
    assert.equal(replay.code, 0, replay.stderr);
    const deadline = Date.now() + 20_000;
    let again = (await probe.get(f.id))!;
    while (again.state !== 'processed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      again = (await probe.get(f.id))!;
    }
    assert.equal(again.state, 'processed', JSON.stringify(again.outcome));
    assert.equal(again.workflow, 'echo');
  });
});
