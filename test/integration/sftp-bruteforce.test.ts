import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { python, run, sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';

// Its own server: this file bans 127.0.0.1 on purpose.
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
// Host keys shared by the test servers (sftp.hostKeysDir): RSA 4096 is generated once, not per server.
const SHARED_HOST_KEYS = join(tmpdir(), 'fluxgate-test-hostkeys');
let server: TestServer;
let key: TestKey;
const PASSWORD = 'correct horse battery staple';

const passwordLogin = (password: string) => python(`
import sys, paramiko
t = paramiko.Transport(('127.0.0.1', int(sys.argv[1])))
t.connect()
try:
    t.auth_password('victim', sys.argv[2])
    sftp = paramiko.SFTPClient.from_transport(t)
    print('accepted', sorted(sftp.listdir('/')))
except paramiko.AuthenticationException as e:
    print('refused', type(e).__name__)
t.close()
`, [String(server.port), password]);

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  server = await new TestServer({
    config: { sftp: { bruteForce: { maxFailures: 3, windowSeconds: 120, banSeconds: 600 }, hostKeysDir: SHARED_HOST_KEYS } },
  }).start();
  assert.equal((await server.cli('account', 'add', 'victim', '--key', key.publicPath)).code, 0);
});

after(async () => { await server?.stop(); await server?.cleanup(); });

test('deprecated password fallback: only once set per account, stored as scrypt, warned about', { skip }, async () => {
  assert.match((await passwordLogin(PASSWORD)).stdout, /^refused/);
  const set = await run(process.execPath, [join(REPO_ROOT, 'bin', 'fluxgate.js'), '--config', server.configFile, 'account', 'password', 'victim'], {
    env: { FLUXGATE_PASSWORD: PASSWORD }, cwd: server.dir,
  });
  assert.equal(set.code, 0, set.stderr);
  const ok = await passwordLogin(PASSWORD);
  assert.match(ok.stdout, /^accepted \['dev', 'in', 'out'\]/, ok.stderr);
  await server.waitForLog((l) => l.msg === 'password authentication is deprecated: give this account a key');
  const show = JSON.parse((await server.cli('account', 'show', 'victim', '--json')).stdout) as { passwordFallback: boolean };
  assert.equal(show.passwordFallback, true);
  const [row] = await server.query<{ hash: string }>('SELECT password_hash AS hash FROM accounts WHERE id = ?', 'victim');
  assert.match(row.hash, /^scrypt\$16384\$8\$1\$/);
  assert.ok(!row.hash.includes(PASSWORD));
});

test('repeated failures ban the address: even the right key is then refused, and the ban is logged', { skip }, async () => {
  for (let i = 0; i < 3; i++) assert.match((await passwordLogin('wrong password')).stdout, /^refused/);
  const ban = await server.waitForLog((l) => l.msg === 'address banned after repeated authentication failures');
  assert.equal(ban.address, '127.0.0.1');
  assert.equal(ban.banSeconds, 600);
  const r = await sftpBatch(server.port, 'victim', key.privatePath, ['ls /']);
  assert.notEqual(r.code, 0);
  await server.waitForLog((l) => l.msg === 'connection refused: address banned after repeated failures');
  assert.ok(!server.logs.some((l) => l.msg === 'login' && l.time as number > (ban.time as number)), 'no login after the ban');
  // The ban is an event (issue #22), for webhooks and mails: recorded through the SFTP server's signal sink.
  const banned = JSON.parse((await server.cli('events', 'list', '--type', 'login.banned', '--json')).stdout) as Array<{ account?: string; data: { address: string; user: string; until: string } }>;
  assert.equal(banned.length, 1, 'one event per ban');
  assert.deepEqual([banned[0].account, banned[0].data.address, banned[0].data.user], ['victim', '127.0.0.1', 'victim']);
  assert.ok(Date.parse(banned[0].data.until) > Date.now() + 500_000, 'banned for banSeconds (600)');
});

test('16 connections guessing passwords at once: only maxFailures guesses are answered before the ban (attempts in flight count)', { skip }, async () => {
  // The flood: 16 parallel connections, each guessing until refused; 40 guesses were answered (threshold 10).
  const r = await python(`
import sys, socket, threading, paramiko
port = int(sys.argv[1])
barrier = threading.Barrier(16)
answers = []
def guesser(n):
    try:
        s = socket.socket()
        s.bind(('127.0.0.4', 0))
        s.connect(('127.0.0.1', port))
        t = paramiko.Transport(s)
        t.connect()
    except Exception:
        barrier.abort()
        return
    try:
        barrier.wait()
        for i in range(5):
            t.auth_password('victim', 'guess %d %d' % (n, i))
    except paramiko.AuthenticationException:
        answers.append('refused')
    except Exception:
        answers.append('dropped')
    t.close()
threads = [threading.Thread(target=guesser, args=(n,)) for n in range(16)]
for th in threads: th.start()
for th in threads: th.join()
print(len(answers))
`, [String(server.port)]);
  assert.equal(r.code, 0, r.stderr);
  await server.waitForLog((l) => l.msg === 'address banned after repeated authentication failures' && l.address === '127.0.0.4');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const decided = server.logs.filter((l) => l.msg === 'login refused' && l.address === '127.0.0.4' && l.method === 'password');
  assert.equal(decided.length, 3, `guesses answered: ${decided.map((l) => l.reason).join(', ')}`);
  assert.ok(server.logs.some((l) => l.msg === 'login refused: address banned while the attempt waited' && l.address === '127.0.0.4'));
});
