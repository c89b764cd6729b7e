import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { TestServer } from '../helpers/server';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { ParamikoSession } from '../helpers/paramiko-session';
import { skipUnless } from '../helpers/tools';

// What happens to sessions already open when the CLI (another process) removes, disables or
// re-keys their account while the server runs.
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
const SHARED_HOST_KEYS = join(tmpdir(), 'fluxgate-test-hostkeys');
const local = mkdtempSync(join(tmpdir(), 'fg-revoke-'));
const sample = join(local, 'ndmat_tmp1_tmp1_sal_hrmanager_v6_261120090500.csv');

const revoked = (server: TestServer, accountId: string, reason: RegExp) =>
  server.waitForLog((l) => l.msg === 'login revoked, disconnecting' && l.accountId === accountId && reason.test(String(l.reason)));

after(() => rmSync(local, { recursive: true, force: true }));

describe('a request of a session whose account was removed and re-created', { skip }, () => {
  // Re-checks on a timer are far apart here: only the check made before each request can stop it.
  let server: TestServer;
  before(async () => {
    if (skip) return;
    writeFileSync(sample, 'registration_reference;last_name\r\n1;Doe\r\n');
    server = await new TestServer({ config: { engine: { watch: false }, sftp: { sessionRecheckSeconds: 3600, hostKeysDir: SHARED_HOST_KEYS } } }).start();
  });
  after(async () => { await server?.stop(); await server?.cleanup(); });

  test('never reaches the new account with the same id: it is refused and the session ends', async () => {
    const oldKey = makeKey('ed25519');
    const newKey = makeKey('ed25519');
    assert.equal((await server.cli('account', 'add', 'tmp1', '--key', oldKey.publicPath)).code, 0);
    const session = await ParamikoSession.open(server, 'tmp1', oldKey);
    try {
      assert.equal(await session.cmd('ls /dev'), 'ok []');
      const removed = await server.cli('account', 'remove', 'tmp1');
      assert.equal(removed.code, 0, removed.stderr);
      const added = await server.cli('account', 'add', 'tmp1', '--key', newKey.publicPath);
      assert.equal(added.code, 0, added.stderr);
      // The new account's owner puts a file in its dev/.
      const own = await sftpBatch(server.port, 'tmp1', newKey.privatePath, [`put ${sample} /dev/mine.csv`]);
      assert.equal(own.code, 0, own.stderr);

      const list = await session.cmd('ls /dev');
      assert.match(list, /^error /, `the old session must not list the new account's dev/: ${list}`);
      const put = await session.cmd(`put ${sample} /in/sal/${basename(sample)}`);
      assert.match(put, /^error /, `the old session must not upload into the new account: ${put}`);
      assert.equal(await session.cmd('wait-closed 5'), 'ok closed');
    } finally {
      session.close();
    }
    const line = await revoked(server, 'tmp1', /a new account now has this id/);
    assert.equal(line.level, 40);
    const root = join(server.dataDir, 'sftp', 'tmp1');
    assert.deepEqual(readdirSync(join(root, 'in', 'sal')), [], 'nothing uploaded into the new account');
    assert.deepEqual(readdirSync(join(root, 'dev')), ['mine.csv']);
    await server.waitForLog((l) => l.msg === 'denied' && l.accountId === 'tmp1' && /this session has ended/.test(String(l.reason)));
  });
});

describe('open sessions end within sftp.sessionRecheckSeconds', { skip }, () => {
  let server: TestServer;
  const keys: Record<string, TestKey> = {};
  before(async () => {
    if (skip) return;
    server = await new TestServer({ config: { sftp: { sessionRecheckSeconds: 1, hostKeysDir: SHARED_HOST_KEYS } } }).start();
    keys.a = makeKey('ed25519');
    keys.b = makeKey('ed25519');
    for (const id of ['gone', 'off', 'rekey', 'fenced']) assert.equal((await server.cli('account', 'add', id, '--key', keys.a.publicPath)).code, 0);
    assert.equal((await server.cli('key', 'add', 'rekey', keys.b.publicPath)).code, 0);
  });
  after(async () => { await server?.stop(); await server?.cleanup(); });

  test('when the account is removed, disabled, loses the key or the address; other sessions go on', async () => {
    const sessions = {
      gone: await ParamikoSession.open(server, 'gone', keys.a),
      off: await ParamikoSession.open(server, 'off', keys.a),
      rekeyA: await ParamikoSession.open(server, 'rekey', keys.a),
      rekeyB: await ParamikoSession.open(server, 'rekey', keys.b),
      fenced: await ParamikoSession.open(server, 'fenced', keys.a),
    };
    try {
      for (const s of Object.values(sessions)) assert.match(await s.cmd('ls /'), /^ok \[/);
      for (const args of [['account', 'remove', 'gone'], ['account', 'disable', 'off'], ['key', 'remove', 'rekey', keys.a.fingerprint],
        ['account', 'update', 'fenced', '--allow-ip', '192.0.2.0/24']]) {
        const r = await server.cli(...args);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      }
      // No request needed: the server ends them by itself.
      for (const name of ['gone', 'off', 'rekeyA', 'fenced'] as const) {
        assert.equal(await sessions[name].cmd('wait-closed 8'), 'ok closed', `${name} must have been disconnected`);
      }
      assert.equal(await sessions.rekeyB.cmd('wait-closed 1'), 'ok open');
      assert.match(await sessions.rekeyB.cmd('ls /'), /^ok \['dev', 'in', 'out'\]/, 'a session with the key that stays goes on');
    } finally {
      for (const s of Object.values(sessions)) s.close();
    }
    // `account remove` disables the account before it deletes it: a timed re-check in between ends the session as disabled.
    await revoked(server, 'gone', /^account (removed|disabled)$/);
    await revoked(server, 'off', /^account disabled$/);
    await revoked(server, 'rekey', /key used to log in was removed/);
    await revoked(server, 'fenced', /allowlist/);
    assert.equal(server.logs.filter((l) => l.msg === 'login revoked, disconnecting' && l.accountId === 'rekey').length, 1);
  });
});
