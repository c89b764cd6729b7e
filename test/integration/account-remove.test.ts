import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Employee } from '../../core/plugin-api/directory';
import { isServerTemporary } from '../../core/upload-names';
import { makeKey } from '../helpers/keys';
import { REPO_ROOT } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { JobsFixture } from './jobs-support';

// `account remove` and `account add` through the real CLI on a real database, without a server:
// the states a running server (a file being processed), a crash, or an older fluxgate leave.

const employee = (n: number) => ({
  organizationCode: 'ACME', registrationReference: String(n).padStart(6, '0'), technicalId: null, email: null,
  lastname: `Name${n}`, firstname: 'Ann', active: true, departureDate: null, attributes: { grade: 'B', city: 'Paris' },
});

function removedFolders(fx: JobsFixture, id: string): string[] {
  const dir = join(fx.srv.dataDir, 'removed');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(`${id}-`)).map((n) => join(dir, n)) : [];
}

const count = async (fx: JobsFixture, table: string, id: string): Promise<number> =>
  (await fx.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${table === 'accounts' ? 'id' : 'account_id'} = ?`, id))[0].n;

describe('account remove while a file is being processed', () => {
  let fx: JobsFixture;
  let fileId = '';
  before(async () => {
    fx = new JobsFixture();
    await (await fx.accountService()).create({ id: 'acme' });
    const input = fx.inTree('acme', 'in/sal/ndmat_acme_acme_sal_v6_261120090500.csv', 'a;b\n');
    const { journal, queue } = (await fx.store()).store;
    const file = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/ndmat_acme_acme_sal_v6_261120090500.csv',
      name: 'ndmat_acme_acme_sal_v6_261120090500.csv', size: 4, sha1: 'x', sha256: 'y', location: input }))!;
    fileId = file.id;
    // What a worker holds while it processes the file: a lease it keeps extending, the file `processing`.
    await queue.insert({ topic: 'file.process', payload: { fileId }, dedupKey: fileId, accountId: 'acme', maxAttempts: 5 });
    assert.equal((await queue.claim({ topic: 'file.process', leaseMs: 60_000, max: 1, perAccount: 1, held: {} })).length, 1);
    await journal.update(fileId, { state: 'processing' });
    // What the sal file's attempt kept so far: the employee as it was before the file changed it.
    const directory = (await fx.store()).directory();
    await directory.upsertOrganization('acme', { code: 'ACME', name: 'Acme', parentCode: null, attributes: {} });
    await directory.createEmployee('acme', employee(1));
    await directory.updateEmployee('acme', { ...employee(1), lastname: 'Changed' }, { sourceFile: fileId, keepPrevious: true });
  });
  after(async () => { await fx.cleanup(); });

  test('is refused (FG_ACCOUNT_BUSY, retry in a moment) with nothing changed', async () => {
    const r = await fx.srv.cli('account', 'remove', 'acme');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^fluxgate: account "acme" has a file being processed right now \(ndmat_acme_acme_sal_v6_261120090500\.csv\); nothing was changed: run "fluxgate account remove acme" again in a moment.*\[FG_ACCOUNT_BUSY\]$/m);
    const acme = (await fx.account('acme'))!;
    assert.equal(acme.enabled, true, 'refused before anything changes: still enabled, as it was');
    assert.ok(existsSync(fx.paths.accountRoot('acme')));
    assert.deepEqual(removedFolders(fx, 'acme'), []);
    assert.equal(await count(fx, 'files', 'acme'), 1);
  });

  test('a lease whose holder died (a crashed server) does not block, long before it runs out', async () => {
    const { queue, accountData } = (await fx.store()).store;
    const job = (await queue.list({ state: 'leased' })).find((j) => j.accountId === 'acme')!;
    // A pid that exists no more: a short-lived child's, after it exited.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    await fx.query('UPDATE queue SET leased_pid = ? WHERE id = ?', dead.pid, job.id);
    const leases = await accountData.liveLeases('acme');
    assert.deepEqual(leases, [], 'the lease runs for minutes more, but its holder is gone');
    await fx.query('UPDATE queue SET leased_pid = ? WHERE id = ?', process.pid, job.id);
    assert.equal((await accountData.liveLeases('acme')).length, 1, 'a live holder still blocks');
  });

  test('goes through once the lease has run out (the worker finished, or died)', async () => {
    await fx.query(`UPDATE queue SET lease_until = ? WHERE account_id = 'acme'`, Date.now() - 1);
    const r = await fx.srv.cli('account', 'remove', 'acme');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(removedFolders(fx, 'acme').length, 1);
    for (const table of ['accounts', 'files', 'queue', 'dir_employees', 'dir_employee_versions']) assert.equal(await count(fx, table, 'acme'), 0, table);
    const journal = JSON.parse(readFileSync(join(removedFolders(fx, 'acme')[0], 'journal.json'), 'utf8')) as { files: Array<{ id: string; state: string }> };
    assert.deepEqual(journal.files.map((f) => [f.id, f.state]), [[fileId, 'processing']]);
    // The kept employee is exported with the rows (it is the account's personal data too), whole.
    assert.match(r.stdout, /^ {2}directory\.json\s+1 organization, 1 employee, 0 users, 0 documents, 1 employee version kept by unfinished files$/m);
    const directory = JSON.parse(readFileSync(join(removedFolders(fx, 'acme')[0], 'directory.json'), 'utf8')) as {
      employees: Array<{ lastname: string }>; employeeVersions: Array<{ file_id: string; registration_reference: string; data: unknown }>;
    };
    assert.deepEqual(directory.employees.map((e) => e.lastname), ['Changed']);
    assert.deepEqual(directory.employeeVersions.map((v) => [v.file_id, v.registration_reference, v.data]), [[fileId, '000001', employee(1)]]);
  });
});

describe('account remove killed mid-run (SIGKILL), then run again', { skip: skipUnless('ssh-keygen') }, () => {
  const EMPLOYEES = 60_000;
  let fx: JobsFixture;
  before(async () => {
    fx = new JobsFixture();
    await (await fx.accountService()).create({ id: 'big' });
    fx.inTree('big', 'out/sal/report.csv', 'report');
    fx.write(join(fx.paths.archive('big', 'sal'), 'input.csv'), 'input');
    await (await fx.store()).directory().batch('big', [
      { method: 'upsertOrganization', args: [{ code: 'ACME', name: 'Acme', parentCode: null, attributes: {} }] },
      ...Array.from({ length: EMPLOYEES }, (_, n) => ({ method: 'createEmployee' as const, args: [employee(n)] as [Employee] })),
    ]);
  });
  after(async () => { await fx.cleanup(); });

  test('loses nothing, and the second run finishes the removal in the same folder', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/fluxgate.js'), '--config', fx.srv.configFile, 'account', 'remove', 'big'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    // Kill it while it writes the directory export: the trees are moved, the rows not yet deleted.
    for (;;) {
      const folder = removedFolders(fx, 'big')[0];
      // (its temporary name: core/atomic-write.ts, `.fg-tmp-<pid>-<random>-directory.json`)
      const writing = folder && existsSync(folder) && readdirSync(folder).some((n) => isServerTemporary(n) && n.endsWith('-directory.json'));
      if (writing || child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL', 'killed before it finished');

    const [folder, ...others] = removedFolders(fx, 'big');
    assert.deepEqual(others, []);
    const manifest = JSON.parse(readFileSync(join(folder, 'removal.json'), 'utf8')) as { finishedAt: string | null; account: { enabled: boolean; disabledReason: string | null } };
    assert.equal(manifest.finishedAt, null, 'unfinished');
    assert.deepEqual([manifest.account.enabled, manifest.account.disabledReason], [true, null], 'the account as it was, recorded before it was disabled');
    // Nothing lost: each tree in its place or in the folder, every row still in the database.
    assert.ok(existsSync(join(folder, 'sftp', 'out', 'sal', 'report.csv')), 'the tree was moved');
    assert.ok(existsSync(join(folder, 'archive', 'sal', 'input.csv')) || existsSync(join(fx.paths.archive('big', 'sal'), 'input.csv')));
    assert.equal(await count(fx, 'dir_employees', 'big'), EMPLOYEES);
    assert.equal((await fx.account('big'))!.enabled, false);
    // A new account cannot take the id meanwhile: this one still exists, and says how to finish.
    const add = await fx.srv.cli('account', 'add', 'big', '--key', makeKey('ed25519').publicPath);
    assert.equal(add.code, 1);
    assert.match(add.stderr, /account "big" already exists; its removal is unfinished: run "fluxgate account remove big" again \[FG_ACCOUNT_EXISTS\]/);
    // Nor can it be enabled: its client would log in to a tree that was moved away.
    const enable = await fx.srv.cli('account', 'enable', 'big');
    assert.equal(enable.code, 1, enable.stdout);
    assert.match(enable.stderr, /account "big" is being removed and its files were moved to .*: finish the removal with "fluxgate account remove big".*\[FG_ACCOUNT_DISABLED\]/);
    assert.equal((await fx.account('big'))!.enabled, false);

    const again = await fx.srv.cli('account', 'remove', 'big');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^account big removed \(finishing the removal started at \S+\)$/m);
    assert.deepEqual(removedFolders(fx, 'big'), [folder], 'the same folder');
    assert.ok(existsSync(join(folder, 'archive', 'sal', 'input.csv')));
    assert.deepEqual(readdirSync(folder).filter(isServerTemporary), [], 'no temporary file left behind');
    const exported = JSON.parse(readFileSync(join(folder, 'directory.json'), 'utf8')) as { organizations: unknown[]; employees: Array<{ registration_reference: string; data: unknown }> };
    assert.equal(exported.organizations.length, 1);
    assert.equal(exported.employees.length, EMPLOYEES);
    assert.deepEqual(exported.employees[EMPLOYEES - 1], { ...exported.employees[EMPLOYEES - 1], registration_reference: String(EMPLOYEES - 1).padStart(6, '0'), data: { grade: 'B', city: 'Paris' } });
    assert.equal(await count(fx, 'dir_employees', 'big'), 0);
    assert.equal(await count(fx, 'accounts', 'big'), 0);
    assert.notEqual((JSON.parse(readFileSync(join(folder, 'removal.json'), 'utf8')) as { finishedAt: string | null }).finishedAt, null);
  });
});

describe('account add over what an older fluxgate left of a removed account', { skip: skipUnless('ssh-keygen') }, () => {
  let fx: JobsFixture;
  before(async () => {
    fx = new JobsFixture();
    await (await fx.accountService()).create({ id: 'acme' });
    const directory = (await fx.store()).directory();
    await directory.upsertOrganization('acme', { code: 'ACME', name: 'Acme', parentCode: null, attributes: {} });
    await directory.createEmployee('acme', employee(1));
    fx.write(join(fx.paths.vault('acme'), 'payslip.pdf'), 'pdf');
    // The removal of before: the tree moved aside and the account row deleted, nothing else.
    await fx.query(`DELETE FROM accounts WHERE id = 'acme'`);
    renameSync(fx.paths.accountRoot('acme'), join(fx.srv.dir, 'old-tree'));
  });
  after(async () => { await fx.cleanup(); });

  test('is refused (FG_ACCOUNT_LEFTOVERS) until account remove moves the leftovers aside', async () => {
    const key = makeKey('ed25519').publicPath;
    const add = await fx.srv.cli('account', 'add', 'acme', '--key', key);
    assert.equal(add.code, 1, add.stdout);
    assert.match(add.stderr, /^fluxgate: there is no account "acme", but data of one removed earlier remains \(2 directory rows, \S+\/vault\/acme\): run "fluxgate account remove acme", which moves it to \S+\/removed\/, then add the account again \[FG_ACCOUNT_LEFTOVERS\]$/m);
    assert.equal(existsSync(fx.paths.accountRoot('acme')), false, 'nothing created');

    const removed = await fx.srv.cli('account', 'remove', 'acme');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^what remained of account acme \(its account row was already gone\) removed$/m);
    assert.match(removed.stdout, /^ {2}vault\/\s+was \S+\/vault\/acme$/m);
    assert.match(removed.stdout, /^ {2}directory\.json\s+1 organization, 1 employee, 0 users, 0 documents$/m);
    const [folder] = removedFolders(fx, 'acme');
    assert.ok(existsSync(join(folder, 'vault', 'payslip.pdf')));

    const again = await fx.srv.cli('account', 'add', 'acme', '--key', key);
    assert.equal(again.code, 0, again.stderr);
    const employees = await fx.srv.cli('directory', 'employees', '--account', 'acme', '--json');
    assert.deepEqual(JSON.parse(employees.stdout), []);
    // Nothing left of anything: a second remove of a missing id says so.
    assert.match((await fx.srv.cli('account', 'remove', 'nobody')).stderr, /no account "nobody", and nothing of one remains \[FG_ACCOUNT_NOT_FOUND\]/);
  });
});

describe('account remove: ids', { skip: skipUnless('ssh-keygen') }, () => {
  let fx: JobsFixture;
  before(async () => {
    fx = new JobsFixture();
    const svc = await fx.accountService();
    await svc.create({ id: 'x1', publicKey: makeKey().publicKey });
    await svc.create({ id: 'y1', publicKey: makeKey().publicKey });
  });
  after(async () => { await fx.cleanup(); });

  test('an id that is not an account id (a path) is refused before anything moves', async () => {
    for (const id of ['../sftp', 'x1/../x1', '..']) {
      const r = await fx.srv.cli('account', 'remove', id);
      assert.equal(r.code, 1, `${id}: ${r.stdout}`);
      assert.match(r.stderr, /\[FG_ACCOUNT_ID\]$/m, id);
    }
    assert.ok(existsSync(fx.paths.accountRoot('x1')) && existsSync(fx.paths.accountRoot('y1')));
    assert.equal((await fx.account('x1'))!.enabled, true);
    assert.ok(!existsSync(join(fx.srv.dataDir, 'removed')), 'no removal folder made');
  });

});
