import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import type { AccountRepository } from '../../core/store/ports/accounts';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { DAY, isoAt, runJob } from '../integration/jobs-support';
import { accountServiceFor } from '../helpers/accounts';

/**
 * Key expiry and account inactivity as the client lives them: `jobs run … --at`, then a real
 * OpenSSH `sftp` login against the running server.
 */
describe('key-expiry and account-inactivity against real logins', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  // A curve25519 server PGP key: generating the default RSA 4096 one can outlast the start-up timeout on a busy machine.
  const server = new TestServer({ config: { pgp: { keyType: 'curve25519' } } });
  const paths = new DataPaths(server.dataDir);
  let accounts: AccountRepository;
  let rsa: TestKey;
  let ed: TestKey;
  let idleKey: TestKey;
  const T = Date.now();

  before(async () => {
    rsa = makeKey('rsa', 3072);
    ed = makeKey('ed25519');
    idleKey = makeKey('ed25519');
    const { store } = await server.store();
    accounts = store.accounts;
    const service = accountServiceFor(store, paths, loadConfig({ configFile: server.configFile }).config);
    await service.create({ id: 'acme', partner: 'acme', publicKey: rsa.publicKey, now: T });
    await service.addKey('acme', ed.publicKey, T);
    await service.create({ id: 'idle', publicKey: idleKey.publicKey, now: T });
    await server.start();
  });
  after(async () => {
    await server.stop();
    await server.cleanup();
  });

  const login = (user: string, key: TestKey) => sftpBatch(server.port, user, key.privatePath, ['ls -1']);

  test('serve schedules the four jobs with their cron expressions and timezone (expectations: none configured)', () => {
    const scheduled = server.logs.filter((l) => l.component === 'cron' && l.msg === 'job scheduled');
    assert.deepEqual(scheduled.map((l) => [l.job, l.schedule, l.timezone]), [
      ['retention', '15 2 * * *', 'UTC'], ['account-inactivity', '30 2 * * *', 'UTC'], ['key-expiry', '45 2 * * *', 'UTC'],
      ['housekeeping', '0 3 * * *', 'UTC'],
    ]);
    assert.ok(server.logs.some((l) => l.msg === 'job has nothing to do: not scheduled' && l.job === 'expectations'));
  });

  test('both keys log in today', async () => {
    assert.equal((await login('acme', rsa)).code, 0);
    assert.equal((await login('acme', ed)).code, 0);
  });

  test('after key-expiry at 731 days, the RSA 3072 key is refused at login and the ed25519 key still accepted', async () => {
    const run = await runJob(server, 'key-expiry', '--at', isoAt(T + 731 * DAY));
    assert.equal(run.counts.expire, 1);
    assert.equal((await accounts.findKey('acme', rsa.fingerprint))!.expiredAt, T + 731 * DAY);
    const refused = await login('acme', rsa);
    assert.notEqual(refused.code, 0, 'RSA 3072 key refused');
    const line = await server.waitForLog((l) => l.msg === 'login refused' && l.fingerprint === rsa.fingerprint);
    assert.match(String(line.reason), /key expired/);
    const accepted = await login('acme', ed);
    assert.equal(accepted.code, 0, accepted.stderr);
  });

  test('an account idle for 12 months is disabled (login refused), re-enabled by `account enable`, purged after 18 months', async () => {
    const disabled = await runJob(server, 'account-inactivity', '--at', isoAt(T + 366 * DAY));
    assert.ok(disabled.actions.some((a) => a.action === 'disable' && a.target === 'idle'));
    assert.notEqual((await login('idle', idleKey)).code, 0, 'disabled account refused');

    const enable = await server.cli('account', 'enable', 'idle');
    assert.equal(enable.code, 0, enable.stderr);
    assert.equal((await login('idle', idleKey)).code, 0, 're-enabled account accepted');

    const purged = await runJob(server, 'account-inactivity', '--at', isoAt(T + 549 * DAY));
    assert.ok(purged.actions.some((a) => a.action === 'purge' && a.target === 'idle'), JSON.stringify(purged.actions));
    assert.equal(existsSync(paths.accountRoot('idle')), false);
    assert.notEqual((await accounts.get('idle'))!.purgedAt, null);
    assert.notEqual((await login('idle', idleKey)).code, 0, 'purged account refused');
  });
});
