import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPaths } from '../../core/config/paths';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { createAccount, JournalProbe } from '../e2e/engine-support';

// Issue #23, operators and workflows: a workflow declares the folders its flux needs
// (createFolders) and existing accounts get them; a workflow file that fails validation at
// start-up keeps its flux running on its last good definition, kept in the store, with an error
// in the log and in `fluxgate workflows status`.
interface Status { source: string; flux: string | null; state: string; problem: string | null; goodSavedAt: string | null }

describe('workflows: declared folders, last good definition across a restart, workflows status', () => {
  const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-lastgood-'));
  const echo = join(workflows, 'echo.yaml');
  const good = `${readFileSync(join(REPO_ROOT, 'workflows', 'echo.yaml'), 'utf8')}createFolders: true\n`;
  let server = new TestServer({ config: { workflowsDir: workflows, pgp: { signReports: false } } });
  const paths = new DataPaths(server.dataDir);
  let probe: JournalProbe | undefined;
  let stamp = 261121100000;

  const drop = async (): Promise<string> => {
    const name = `ndmat_acme_acme_echo_${++stamp}.txt`;
    const target = join(paths.accountRoot('acme'), 'in', 'echo', name);
    writeFileSync(`${target}.filepart`, 'one line\n');
    renameSync(`${target}.filepart`, target);
    const file = await probe!.finished(name);
    return file.state;
  };
  const status = async (): Promise<{ code: number | null; rows: Status[] }> => {
    const r = await server.cli('workflows', 'status', '--json');
    return { code: r.code, rows: JSON.parse(r.stdout) as Status[] };
  };

  before(async () => {
    writeFileSync(echo, good);
    await createAccount(server, 'acme'); // before the start, without in/echo
    await server.start();
    probe = new JournalProbe(server);
  });
  after(async () => {
    await server.cleanup();
  });

  test('createFolders: an existing account gets the workflow\'s in/ and out/ folders at start-up', async () => {
    assert.ok(existsSync(join(paths.accountRoot('acme'), 'in', 'echo')));
    assert.ok(existsSync(join(paths.accountRoot('acme'), 'out', 'echo')));
    assert.equal(await drop(), 'processed');
  });

  test('workflows status: each file runs its own definition', async () => {
    const { code, rows } = await status();
    assert.equal(code, 0);
    assert.deepEqual(rows.map((r) => [r.flux, r.state]), [['echo', 'file']]);
  });

  test('a file invalid at the next start: its last good definition runs, with an error in the log and in workflows status', async () => {
    await server.stop();
    writeFileSync(echo, good.replace('  - handler\n', '  - handler\n  - no-such-step\n'));
    server = new TestServer({ dir: server.dir, config: { workflowsDir: workflows, pgp: { signReports: false } } });
    await server.start();
    probe = new JournalProbe(server);
    const logged = server.logs.find((l) => String(l.msg).startsWith('invalid workflow at start-up: its last good definition'));
    assert.ok(logged, 'the error is logged');
    assert.match(String(logged.msg), /no-such-step/);
    assert.equal(await drop(), 'processed', 'the flux still runs, on the last good definition');
    const { code, rows } = await status();
    assert.equal(code, 1, 'something to fix: exit 1');
    assert.equal(rows[0].state, 'last-good');
    assert.equal(rows[0].flux, 'echo');
    assert.match(rows[0].problem ?? '', /no-such-step/);
    assert.ok(rows[0].goodSavedAt);
  });
});
