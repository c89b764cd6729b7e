import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { python, run, sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';

// Its own server: this file bans 127.0.0.1 on purpose (the audit's settings: 5 failures).
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
const SHARED_HOST_KEYS = join(tmpdir(), 'fluxgate-test-hostkeys');
let server: TestServer;
let key: TestKey;
let stranger: TestKey;

/** One password attempt with paramiko: `refused`, `accepted`, or `no-connection` (banned: closed before authentication). */
const passwordAttempt = async (user: string, password: string): Promise<string> => (await python(`
import sys, paramiko
try:
    t = paramiko.Transport(('127.0.0.1', int(sys.argv[1])))
    t.connect()
except Exception as e:
    print('no-connection'); sys.exit(0)
try:
    t.auth_password(sys.argv[2], sys.argv[3])
    print('accepted')
except paramiko.AuthenticationException:
    print('refused')
except Exception:
    print('no-connection')
t.close()
`, [String(server.port), user, password])).stdout.trim();

/** paramiko signing with a key the account does not have, then with its key (a counted failure, then a login). */
const paramikoWrongThenRight = () => python(`
import sys, paramiko
ssh = paramiko.SSHClient()
ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
wrong = paramiko.Ed25519Key.from_private_key_file(sys.argv[3])
ssh.connect('127.0.0.1', port=int(sys.argv[1]), username='acme', pkey=wrong, key_filename=sys.argv[2],
            allow_agent=False, look_for_keys=False, timeout=10)
print(sorted(ssh.open_sftp().listdir('/')))
ssh.close()
`, [String(server.port), key.privatePath, stranger.privatePath]);

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  stranger = makeKey('ed25519');
  server = await new TestServer({
    config: { sftp: { bruteForce: { maxFailures: 5, windowSeconds: 300, banSeconds: 600 }, hostKeysDir: SHARED_HOST_KEYS } },
  }).start();
  assert.equal((await server.cli('account', 'add', 'acme', '--key', key.publicPath)).code, 0);
  assert.equal((await server.cli('account', 'add', 'acme2', '--key', stranger.publicPath)).code, 0);
  const pw = await run(process.execPath, [join(REPO_ROOT, 'bin', 'fluxgate.js'), '--config', server.configFile, 'account', 'password', 'acme2'], {
    env: { FLUXGATE_PASSWORD: 'the real acme2 passphrase' }, cwd: server.dir,
  });
  assert.equal(pw.code, 0, pw.stderr);
});

after(async () => { await server?.stop(); await server?.cleanup(); });

test('key clients offering a wrong key first log in and are never banned (OpenSSH queries, paramiko signs)', { skip }, async () => {
  // More logins than maxFailures: OpenSSH offers an unknown key first (a query, not a failure);
  // paramiko signs with a wrong key first (a failure of acme, cleared by acme's own login that
  // follows on the same connection).
  for (let i = 0; i < 6; i++) {
    const r = await sftpBatch(server.port, 'acme', stranger.privatePath, ['ls /'], ['-i', key.privatePath]);
    assert.equal(r.code, 0, `OpenSSH login ${i + 1}: ${r.stderr}`);
    const p = await paramikoWrongThenRight();
    assert.equal(p.code, 0, `paramiko login ${i + 1}: ${p.stderr}`);
    assert.match(p.stdout, /\['dev', 'in', 'out'\]/);
  }
  // The wrong signed key was a counted failure (a warn line), and no ban followed.
  await server.waitForLog((l) => l.msg === 'login refused' && l.username === 'acme' && l.fingerprint === stranger.fingerprint && l.level === 40);
  assert.ok(!server.logs.some((l) => l.msg === 'address banned after repeated authentication failures'), 'key clients are not banned');
});

test('a login to one account does not wipe failures against another: the audit\'s pattern is banned', { skip }, async () => {
  // Whatever the test before left, acme's own login clears its failures.
  assert.equal((await sftpBatch(server.port, 'acme', key.privatePath, ['ls /'])).code, 0);
  // The audit: wrong passwords for acme2, with a good key login to acme after every 4.
  const outcomes: string[] = [];
  for (let i = 1; i <= 12; i++) {
    outcomes.push(await passwordAttempt('acme2', `wrong guess ${i}`));
    if (i % 4 === 0) outcomes.push((await sftpBatch(server.port, 'acme', key.privatePath, ['ls /'])).code === 0 ? 'key login' : 'key refused');
  }
  const ban = await server.waitForLog((l) => l.msg === 'address banned after repeated authentication failures');
  assert.equal(ban.address, '127.0.0.1');
  assert.deepEqual(outcomes.slice(0, 6), ['refused', 'refused', 'refused', 'refused', 'key login', 'refused'],
    'the 5th failure bans, although acme logged in after the 4th');
  assert.deepEqual(new Set(outcomes.slice(6)), new Set(['no-connection', 'key refused']), outcomes.join(', '));
});
