import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AccountService } from '../../core/accounts/account-service';
import { makeKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';
import { DAY, isoAt, JobsFixture, runJob } from './jobs-support';

describe('account-inactivity job (CLI, --at)', { skip: skipUnless('ssh-keygen') }, () => {
  let fx: JobsFixture;
  let service: AccountService;
  const T = Date.now();
  const files: string[] = [];
  let fileId = '';

  before(async () => {
    fx = new JobsFixture();
    service = await fx.accountService();
    await service.create({ id: 'acme', publicKey: readFileSync(makeKey('ed25519').publicPath, 'utf8'), now: T });
    await service.create({ id: 'busy', now: T });
    await (await fx.store()).store.accounts.recordLogin('busy', T + 200 * DAY);
    files.push(
      fx.inTree('acme', 'out/sal/cdmat_acme_sal_report.xml', '<r/>'),
      fx.inTree('acme', 'in/sal/x.csv.filepart', 'half'),
      fx.write(join(fx.paths.archive('acme', 'sal'), 'in.csv'), 'archived'),
      fx.write(join(fx.paths.quarantine('acme', 'usr'), 'bad.csv'), 'bad'),
      fx.write(join(fx.paths.vault('acme'), 'doc.pdf'), 'pdf'),
    );
    const { journal } = (await fx.store()).store;
    const row = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/in.csv',
      name: 'in.csv', size: 8, sha1: 'x', sha256: 'y', location: files[2], receivedAt: T }))!;
    await journal.update(row.id, { state: 'processed', processedAt: T });
    fileId = row.id;
    // What its files applied: personal data the purge must delete with the files.
    const directory = (await fx.store()).directory();
    for (const id of ['acme', 'busy']) {
      await directory.upsertOrganization(id, { code: 'ACME', name: 'Acme', parentCode: null, attributes: {} });
      await directory.upsertEmployee(id, { organizationCode: 'ACME', registrationReference: '000001', technicalId: null, email: 'ann@example.com',
        lastname: 'Smith', firstname: 'Ann', active: true, departureDate: null, attributes: {} });
      await directory.upsertUser(id, { login: 'hr.admin', email: 'hr@example.com', lastname: 'Admin', firstname: 'Hr', profileCode: 'HR_ADMIN', organizationCodes: ['ACME'], attributes: {} });
    }
  });
  const directoryRows = async (id: string): Promise<number[]> => Promise.all(['dir_organizations', 'dir_employees', 'dir_users', 'dir_documents']
    .map(async (t) => (await fx.query<{ n: number }>(`SELECT count(*) AS n FROM ${t} WHERE account_id = ?`, id))[0].n));
  after(async () => { await fx.cleanup(); });

  test('enabled at 364 days without a login, disabled at 366', async () => {
    const at364 = await runJob(fx.srv, 'account-inactivity', '--at', isoAt(T + 364 * DAY));
    assert.equal(at364.counts.disable ?? 0, 0);
    assert.equal((await fx.account('acme'))!.enabled, true);

    const at366 = await runJob(fx.srv, 'account-inactivity', '--at', isoAt(T + 366 * DAY));
    assert.equal(at366.outcome, 'ok');
    assert.deepEqual(at366.actions.map((a) => [a.action, a.target]), [['disable', 'acme']]);
    const acme = (await fx.account('acme'))!;
    assert.equal(acme.enabled, false);
    assert.match(acme.disabledReason!, /no successful login/);
    // The account that logged in at day 200 is not idle long enough.
    assert.equal((await fx.account('busy'))!.enabled, true);
    for (const f of files) assert.ok(existsSync(f), 'disabling deletes nothing');
  });

  test('re-enabled by an operator, it stays enabled until the purge deadline', async () => {
    await service.enable('acme');
    const run = await runJob(fx.srv, 'account-inactivity', '--at', isoAt(T + 400 * DAY));
    assert.equal(run.counts.disable ?? 0, 0);
    assert.equal(run.counts.reenabledKept, 1);
    assert.equal((await fx.account('acme'))!.enabled, true);
  });

  test('dry run at 18 months says it would purge and changes nothing', async () => {
    const run = await runJob(fx.srv, 'account-inactivity', '--dry-run', '--at', isoAt(T + 549 * DAY));
    const purge = run.actions.find((a) => a.action === 'purge')!;
    assert.equal(purge.target, 'acme');
    const detail = (purge as { detail?: Record<string, number> }).detail!;
    assert.equal(detail.files, 5);
    assert.deepEqual([detail.directoryRows, detail.organizations, detail.employees, detail.users, detail.documents], [3, 1, 1, 1, 0]);
    const text = await fx.srv.cli('jobs', 'run', 'account-inactivity', '--dry-run', '--at', isoAt(T + 549 * DAY));
    assert.match(text.stdout, /^ {2}would purge acme {2}\(.*files 5, .*directoryRows 3, organizations 1, employees 1, users 1, documents 0, employeeVersions 0\)$/m);
    assert.deepEqual(await directoryRows('acme'), [1, 1, 1, 0]);
    for (const f of files) assert.ok(existsSync(f));
    const acme = (await fx.account('acme'))!;
    assert.equal(acme.purgedAt, null);
    assert.equal(acme.enabled, true);
    assert.equal((await fx.keys('acme')).length, 1);
  });

  test('after 18 months without a login the account is purged: files deleted, tombstones kept, account marked purged', async () => {
    const run = await runJob(fx.srv, 'account-inactivity', '--at', isoAt(T + 549 * DAY));
    assert.equal(run.outcome, 'ok', JSON.stringify(run.errors));
    assert.equal(run.counts.purge, 1);
    assert.equal(run.counts.filesDeleted, 5);
    assert.equal(run.counts.directoryRowsDeleted, 3);
    assert.deepEqual(await directoryRows('acme'), [0, 0, 0, 0], 'its directory rows are deleted with its files');
    assert.deepEqual(await directoryRows('busy'), [1, 1, 1, 0], 'another account keeps its own');
    const history = JSON.parse((await fx.srv.cli('jobs', 'history', 'account-inactivity', '--json')).stdout) as Array<{ counts: Record<string, number> }>;
    assert.equal(history[0].counts.directoryRowsDeleted, 3);
    for (const f of files) assert.equal(existsSync(f), false, `${f} deleted`);
    assert.equal(existsSync(fx.paths.accountRoot('acme')), false);
    assert.equal(existsSync(fx.paths.vault('acme')), false);
    const acme = (await fx.account('acme'))!;
    assert.equal(acme.purgedAt, T + 549 * DAY);
    assert.equal(acme.enabled, false);
    assert.equal((await fx.keys('acme')).length, 0);
    const tombs = (await fx.tombstones()).filter((t) => t.rule === 'account-purge');
    assert.equal(tombs.length, 5);
    assert.ok(tombs.every((t) => t.state === 'done' && t.sha256 !== null));
    assert.equal((await (await fx.store()).store.journal.get(fileId))!.state, 'deleted');
    // busy (last login day 200) is untouched; a purged account is left alone by later runs.
    assert.equal((await fx.account('busy'))!.purgedAt, null);
    const later = await runJob(fx.srv, 'account-inactivity', '--at', isoAt(T + 600 * DAY));
    assert.equal(later.counts.purge ?? 0, 0);
    assert.equal((await fx.tombstones()).length, 5);

    // A purged account cannot be made to look usable again: remove it, then add it anew.
    const enable = await fx.srv.cli('account', 'enable', 'acme');
    assert.equal(enable.code, 1);
    assert.match(enable.stderr, /account "acme" was purged on \d{4}-\d\d-\d\d .*cannot be enabled: remove it .*\[FG_ACCOUNT_PURGED\]/);
    const key = makeKey('ed25519');
    const addKey = await fx.srv.cli('key', 'add', 'acme', key.publicPath);
    assert.equal(addKey.code, 1);
    assert.match(addKey.stderr, /cannot get a key.*\[FG_ACCOUNT_PURGED\]/);
    assert.equal((await fx.account('acme'))!.enabled, false);
    assert.equal((await fx.srv.cli('account', 'remove', 'acme')).code, 0);
    const again = await fx.srv.cli('account', 'add', 'acme', '--key', key.publicPath);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await fx.account('acme'))!.purgedAt, null);
  });
});

describe('account-inactivity with accounts.purge: false', () => {
  let fx: JobsFixture;
  const T = Date.now();
  before(async () => {
    fx = new JobsFixture({ accounts: { purge: false } });
    await (await fx.accountService()).create({ id: 'keepme', now: T });
  });
  after(async () => { await fx.cleanup(); });

  test('an account idle for 18 months is disabled, never purged', async () => {
    const file = fx.inTree('keepme', 'out/sal/r.xml', 'r');
    const run = await runJob(fx.srv, 'account-inactivity', '--at', isoAt(T + 700 * DAY));
    assert.deepEqual(run.actions.map((a) => a.action), ['disable']);
    const acct = (await fx.account('keepme'))!;
    assert.equal(acct.enabled, false);
    assert.equal(acct.purgedAt, null);
    assert.ok(existsSync(file));
    assert.equal((await fx.tombstones()).length, 0);
  });
});

describe('key-expiry job (CLI, --at)', { skip: skipUnless('ssh-keygen') }, () => {
  let fx: JobsFixture;
  const T = Date.now();
  let rsa3072 = '';
  let ed25519 = '';
  before(async () => {
    fx = new JobsFixture({ log: { level: 'info' } }) // the dry run's `would …` lines are info;
    const service = await fx.accountService();
    const k1 = makeKey('rsa', 3072);
    const k2 = makeKey('ed25519');
    await service.create({ id: 'acme', publicKey: readFileSync(k1.publicPath, 'utf8'), now: T });
    await service.addKey('acme', readFileSync(k2.publicPath, 'utf8'), T);
    rsa3072 = k1.fingerprint;
    ed25519 = k2.fingerprint;
  });
  after(async () => { await fx.cleanup(); });

  const key = async (fp: string) => (await (await fx.store()).store.accounts.findKey('acme', fp))!;
  const logLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

  test('no warning at 699 days; the RSA 3072 key is warned about at 701 days, once', async () => {
    assert.equal((await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 699 * DAY))).counts.warn ?? 0, 0);
    const run = await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 701 * DAY));
    assert.equal(run.counts.warn, 1);
    assert.deepEqual(run.actions.map((a) => [a.action, a.target]), [['warn', rsa3072]]);
    const warnLine = run.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.level === 40 && l.fingerprint === rsa3072);
    assert.ok(warnLine, 'a warn log line names the key');
    assert.equal(warnLine.daysLeft, 29);
    assert.notEqual((await key(rsa3072)).warnedAt, null);
    assert.equal((await key(ed25519)).warnedAt, null);
    const again = await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 705 * DAY));
    assert.equal(again.counts.warn ?? 0, 0);
  });

  test('at 731 days the RSA 3072 key is marked expired, the ed25519 key is not', async () => {
    const dry = await runJob(fx.srv, 'key-expiry', '--dry-run', '--at', isoAt(T + 731 * DAY));
    assert.deepEqual(dry.actions.map((a) => [a.action, a.target]), [['expire', rsa3072]]);
    assert.equal((await key(rsa3072)).expiredAt, null, 'dry run marks nothing');
    // A dry run says what it would do, never that it did it, and warns about nothing.
    const dryLines = logLines(dry.stderr);
    assert.ok(dryLines.some((l) => l.msg === 'would expire' && l.target === rsa3072), dry.stderr);
    assert.deepEqual(dryLines.filter((l) => (l.level as number) >= 40 || /SSH key/.test(String(l.msg))), [], 'no warn line, no "SSH key expired" line');
    const run = await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 731 * DAY));
    assert.equal(run.counts.expire, 1);
    const expiredLine = logLines(run.stderr).find((l) => l.level === 40 && l.fingerprint === rsa3072);
    assert.match(String(expiredLine?.msg), /SSH key expired: marked expired/, run.stderr);
    assert.equal((await key(rsa3072)).expiredAt, T + 731 * DAY);
    assert.equal((await key(ed25519)).expiredAt, null);
  });

  test('the ed25519 key is warned about 30 days before its 1826 days', async () => {
    const dry = await runJob(fx.srv, 'key-expiry', '--dry-run', '--at', isoAt(T + (1826 - 10) * DAY));
    assert.deepEqual(dry.actions.map((a) => [a.action, a.target]), [['warn', ed25519]]);
    assert.ok(logLines(dry.stderr).some((l) => l.msg === 'would warn' && l.target === ed25519), dry.stderr);
    assert.ok(!logLines(dry.stderr).some((l) => (l.level as number) >= 40), 'a dry run warns about nothing');
    assert.equal((await key(ed25519)).warnedAt, null, 'dry run marks nothing');
    const run = await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + (1826 - 10) * DAY));
    assert.deepEqual(run.actions.map((a) => [a.action, a.target]), [['warn', ed25519]]);
  });
});
