import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { MAX_PAGE } from '../../core/store/journal-repository';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { createAccount, startEchoServer, type JournalProbe } from '../e2e/engine-support';

/**
 * Intake without SFTP: files written straight into the account trees (as a co-located OpenSSH
 * or a mounted share would) are found by the watcher; partial names are never taken; accounts
 * created while the server runs are picked up; drop-box accounts answer in the journal only.
 */
describe('intake: watcher, partial names, new accounts, drop-box', () => {
  let server: TestServer;
  let probe: JournalProbe;
  let paths: DataPaths;

  before(async () => {
    const workflows = join(tmpdir(), `fg-wf-${process.pid}-${Date.now()}`);
    mkdirSync(workflows);
    cpSync(join(REPO_ROOT, 'workflows', 'echo.yaml'), join(workflows, 'echo.yaml'));
    // Drop-box files through the echo handler, so this test does not depend on the dropbox plugin.
    writeFileSync(join(workflows, 'dropbox.yaml'), 'flux: dropbox\nhandler: echo\nmatch: {profile: dropbox}\nsteps: [handler, report, archive]\n');
    // Every account watched (engine.watch: true): files are taken within a second, not at the scan's next pass.
    ({ server, paths, probe } = await startEchoServer({ workflowsDir: workflows, pgp: { signReports: false, keyType: 'curve25519' }, engine: { watch: true } }));
  });
  after(async () => {
    await server?.cleanup();
  });

  const drop = (account: string, rel: string, content: string): string => {
    const target = join(paths.accountRoot(account), rel);
    writeFileSync(`${target}.filepart`, content);
    renameSync(`${target}.filepart`, target);
    return target;
  };

  test('a file written into in/ by other means is taken by the watcher and processed', async () => {
    drop('acme', 'in/echo/ndmat_acme_acme_echo_261120110000.csv', 'w1\nw2\n');
    const f = await probe.finished('ndmat_acme_acme_echo_261120110000.csv');
    assert.equal(f.state, 'processed');
    assert.equal(f.outcome?.counts?.created, 2);
    const via = (await probe.events(f.id)).filter((e) => e.type === 'received');
    assert.equal(via.length, 1);
    await server.waitForLog((l) => l.msg === 'file received' && l.fileId === f.id && l.via === 'watcher', 5000);
  });

  test('.filepart and temporary upload names are never taken', async () => {
    const dir = join(paths.accountRoot('acme'), 'in', 'echo');
    writeFileSync(join(dir, 'ndmat_acme_acme_echo_261120110100.csv.filepart'), 'partial\n');
    writeFileSync(join(dir, '.fg-upload-abc-ndmat_acme_acme_echo_261120110101.csv'), 'partial\n');
    // A complete file dropped after them is processed: by then the partial ones were seen and ignored.
    drop('acme', 'in/echo/ndmat_acme_acme_echo_261120110102.csv', 'x\n');
    await probe.finished('ndmat_acme_acme_echo_261120110102.csv');
    await new Promise((r) => setTimeout(r, 500));
    const names = (await probe.list({ limit: MAX_PAGE })).files.map((f) => f.name);
    assert.ok(!names.some((n) => n.includes('261120110100') || n.includes('261120110101')), names.join(', '));
    assert.ok(existsSync(join(dir, 'ndmat_acme_acme_echo_261120110100.csv.filepart')), 'a partial upload is left alone');
  });

  test('files outside in/ (out/, dev/, the root) are not taken', async () => {
    writeFileSync(join(paths.accountRoot('acme'), 'dev', 'ndmat_acme_acme_echo_261120110200.csv'), 'dev\n');
    drop('acme', 'in/echo/ndmat_acme_acme_echo_261120110201.csv', 'x\n');
    await probe.finished('ndmat_acme_acme_echo_261120110201.csv');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await probe.byName('ndmat_acme_acme_echo_261120110200.csv')).length, 0);
  });

  test('files written into directories made just before (make the directory, write, rename) are all taken', async () => {
    // chokidar reads a new directory, then watches it: a file renamed into it in between is
    // never reported (paulmillr/chokidar#1471). The watcher scans new directories a second later.
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      mkdirSync(join(paths.accountRoot('acme'), 'in', `new${i}`));
      const name = `ndmat_acme_acme_new${i}_2611201104${String(i).padStart(2, '0')}.csv`;
      drop('acme', `in/new${i}/${name}`, 'x\n');
      names.push(name);
    }
    // Within a few seconds, not at the scan's next pass (30 s).
    for (const name of names) assert.equal((await probe.finished(name, 8000)).outcome?.code, 'FG_NO_WORKFLOW', name);
  });

  test('a file in a directory no workflow serves is rejected and kept in quarantine', async () => {
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'zzz'));
    drop('acme', 'in/zzz/ndmat_acme_acme_zzz_261120110300.csv', 'x\n');
    const f = await probe.finished('ndmat_acme_acme_zzz_261120110300.csv');
    assert.equal(f.state, 'rejected');
    assert.equal(f.outcome?.code, 'FG_NO_WORKFLOW');
    assert.ok(f.location.startsWith(join(server.dataDir, 'quarantine', 'acme', 'unmatched')), f.location);
    assert.ok(existsSync(f.location));
    // directly in in/ (no flux directory) is not ignored either
    drop('acme', 'in/stray.csv', 'x\n');
    const stray = await probe.finished('stray.csv');
    assert.equal(stray.outcome?.code, 'FG_NO_WORKFLOW');
    assert.ok(existsSync(stray.location));
  });

  test('an account created while the server runs is watched without a restart', async () => {
    await createAccount(server, 'late');
    mkdirSync(join(paths.accountRoot('late'), 'in', 'echo'));
    await new Promise((r) => setTimeout(r, 700));
    drop('late', 'in/echo/ndmat_late_late_echo_261120110400.csv', 'x\n');
    const f = await probe.finished('ndmat_late_late_echo_261120110400.csv', 15_000);
    assert.equal(f.state, 'processed');
    assert.equal(f.accountId, 'late');
  });

  test('drop-box: a file at the root is processed, the result is in the journal, nothing is written for the client', async () => {
    await createAccount(server, 'nectar', 'dropbox');
    await new Promise((r) => setTimeout(r, 700));
    drop('nectar', 'employees.csv', 'e1\ne2\ne3\n');
    const f = await probe.finished('employees.csv', 15_000, 'nectar');
    assert.equal(f.state, 'processed');
    assert.equal(f.reportPath, null);
    assert.equal(f.receiptPath, null);
    assert.deepEqual(readdirSync(paths.accountRoot('nectar')), [], 'the drop-box root is empty again');
    const report = (await probe.events(f.id)).find((e) => e.type === 'report');
    assert.deepEqual(report?.detail.counts, { created: 3, updated: 0, unchanged: 0, rejected: 0 });
    assert.ok(f.location.startsWith(join(server.dataDir, 'archive', 'nectar', 'dropbox')));
  });
});
