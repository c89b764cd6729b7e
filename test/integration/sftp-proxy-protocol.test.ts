import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { python, PARAMIKO_CONNECT, sftpBatch } from '../helpers/clients';
import { Haproxy } from '../helpers/haproxy';
import { makeKey, type TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// A real haproxy (TCP mode, send-proxy-v2, health checks with check-send-proxy) in front of a
// real server. haproxy reaches the server from 127.0.0.9, the only trusted proxy; clients reach
// haproxy from 127.0.0.1 or 127.0.0.2 (all of 127/8 is the loopback on Linux), which is what
// the server must see.
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko', 'haproxy');
const PROXY = '127.0.0.9';
let server: TestServer;
let haproxy: Haproxy;
let keys: Record<'one' | 'two' | 'stranger', TestKey>;

const through = (user: 'one' | 'two', from: string, key: TestKey, commands = ['ls /']) =>
  sftpBatch(haproxy.port, user, key.privatePath, commands, ['-o', `BindAddress=${from}`]);
const logins = (user: string) => server.logs.filter((l) => l.event === 'login' && l.accountId === user);

before(async () => {
  if (skip) return;
  keys = { one: makeKey('ed25519'), two: makeKey('ed25519'), stranger: makeKey('ed25519') };
  server = await new TestServer({
    config: {
      cluster: { trustedProxies: [`${PROXY}/32`], nodeId: 'node-a' },
      sftp: { bruteForce: { maxFailures: 3, windowSeconds: 300, banSeconds: 600 } },
    },
  }).start();
  for (const [user, from] of [['one', '127.0.0.1'], ['two', '127.0.0.2']] as const) {
    const r = await server.cli('account', 'add', user, '--key', keys[user].publicPath, '--allow-ip', from);
    assert.equal(r.code, 0, r.stderr);
  }
  // The health check docs/cluster.md gives: a LOCAL header, then the server's SSH identification.
  haproxy = await new Haproxy({
    backendPort: server.port, source: PROXY, serverOptions: 'send-proxy-v2 check inter 500 check-send-proxy',
    backendLines: ['option tcp-check', 'tcp-check expect rstring ^SSH-2\\.0-'],
  }).start();
});

after(async () => {
  await haproxy?.stop();
  await server?.stop();
  await server?.cleanup();
});

test('through haproxy: an account allowlisted for 127.0.0.1 logs in and uploads; the audit log has the client, not the proxy', { skip }, async () => {
  const listening = await server.waitForLog((l) => l.msg === 'listening');
  assert.equal(listening.nodeId, 'node-a');
  assert.deepEqual(listening.trustedProxies, [`${PROXY}/32`]);

  const local = join(server.dir, 'hello.txt');
  writeFileSync(local, 'through the balancer\n');
  const r = await through('one', '127.0.0.1', keys.one, [`put ${local} dev/hello.txt`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(server.dataDir, 'sftp', 'one', 'dev', 'hello.txt'), 'utf8'), 'through the balancer\n');

  const login = await server.waitForLog((l) => l.event === 'login' && l.accountId === 'one');
  assert.equal(login.address, '127.0.0.1');
  assert.equal(login.proxy, PROXY);
  const upload = await server.waitForLog((l) => l.msg === 'upload complete' && l.path === '/dev/hello.txt');
  assert.equal(upload.address, '127.0.0.1');
  assert.equal(upload.proxy, PROXY);
});

test('through haproxy from 127.0.0.2: the account allowlisted for 127.0.0.2 logs in and its upload is journaled from 127.0.0.2, the one for 127.0.0.1 is refused', { skip }, async () => {
  const two = await through('two', '127.0.0.2', keys.two);
  assert.equal(two.code, 0, two.stderr);
  const one = await through('one', '127.0.0.2', keys.one);
  assert.notEqual(one.code, 0, 'one is allowlisted for 127.0.0.1 only');

  const login = await server.waitForLog((l) => l.event === 'login' && l.accountId === 'two');
  assert.equal(login.address, '127.0.0.2');
  assert.equal(login.proxy, PROXY);
  const refused = await server.waitForLog((l) => l.event === 'login refused' && l.username === 'one' && l.address === '127.0.0.2');
  assert.equal(refused.reason, 'address not in the account allowlist');
  assert.equal(refused.proxy, PROXY);
  assert.equal(logins('one').filter((l) => l.address === '127.0.0.2').length, 0);

  // The journal keeps the client's address too, not haproxy's (#20).
  const name = 'ndmat_two_two_sal_261207040200.csv';
  const local = join(server.dir, name);
  writeFileSync(local, 'matricule,nom\n3,Petit\n');
  const put = await through('two', '127.0.0.2', keys.two, [`put ${local} in/sal/${name}`]);
  assert.equal(put.code, 0, put.stderr);
  let file: { id: string; client: unknown } | undefined;
  await until('the upload through haproxy is journaled', async () => {
    const r = await server.cli('files', '--account', 'two', '--json');
    file = (JSON.parse(r.stdout) as Array<{ id: string; name: string; client: unknown }>).find((f) => f.name === name);
    return file !== undefined;
  }, 15_000, 200);
  const shown = await server.cli('files', 'show', file!.id, '--json');
  assert.deepEqual((JSON.parse(shown.stdout) as { client: unknown }).client, { address: '127.0.0.2', fingerprint: keys.two.fingerprint });

  // paramiko too, through a socket bound to 127.0.0.2.
  const p = await python(PARAMIKO_CONNECT.replace(
    "ssh.connect('127.0.0.1', port=port,",
    "import socket\nsock = socket.create_connection(('127.0.0.1', port), source_address=('127.0.0.2', 0))\nssh.connect('127.0.0.1', port=port, sock=sock,",
  ) + 'print(sorted(sftp.listdir("/")))\n', [String(haproxy.port), 'two', keys.two.privatePath]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /\['dev', 'in', 'out'\]/);
});

test('haproxy health checks (LOCAL command) are read, and served as the proxy itself', { skip }, async () => {
  const check = await server.waitForLog((l) => l.msg === 'PROXY protocol header read' && l.command === 'local');
  assert.equal(check.proxy, PROXY);
  assert.equal(check.address, PROXY);
  assert.equal(check.version, 2);
  // Each check got the server's SSH identification after its header: haproxy never marked it down.
  const checks = () => server.logs.filter((l) => l.msg === 'PROXY protocol header read' && l.command === 'local').length;
  await until('haproxy has checked the server three times', () => checks() >= 3, 10_000);
  assert.doesNotMatch(haproxy.stderr, /node1 is DOWN/, haproxy.stderr);
});

test('a PROXY header sent directly from an address that is no trusted proxy is refused (FG_PROXY_UNTRUSTED)', { skip }, async () => {
  // A client on 127.0.0.1 claims to be 127.0.0.2, where `two` may log in from.
  const p = await python(`
import socket, struct, sys, paramiko
sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), source_address=('127.0.0.1', 0))
sock.sendall(b'\\r\\n\\r\\n\\x00\\r\\nQUIT\\n' + bytes([0x21, 0x11]) + struct.pack('!H', 12)
             + socket.inet_aton('127.0.0.2') + socket.inet_aton('127.0.0.1') + struct.pack('!HH', 40000, 22))
try:
    t = paramiko.Transport(sock)
    t.connect(username='two', pkey=paramiko.Ed25519Key.from_private_key_file(sys.argv[2]))
    print('accepted')
except Exception as e:
    print('refused', type(e).__name__)
`, [String(server.port), keys.two.privatePath]);
  assert.match(p.stdout, /^refused/, p.stdout + p.stderr);
  const line = await server.waitForLog((l) => l.code === 'FG_PROXY_UNTRUSTED');
  assert.equal(line.address, '127.0.0.1');
  assert.equal(line.level, 40);
  assert.match(String(line.msg), /PROXY protocol header from an address not in cluster\.trustedProxies/);
  assert.equal(logins('two').filter((l) => l.proxy === undefined).length, 0, 'no login of two without the proxy');
});

test('a trusted proxy\'s connection without a PROXY header is refused (FG_PROXY_HEADER), at once or after the deadline', { skip }, async () => {
  // OpenSSH straight to the server from the proxy's address: its identification line is no header.
  const direct = await sftpBatch(server.port, 'one', keys.one.privatePath, ['ls /'], ['-o', `BindAddress=${PROXY}`]);
  assert.notEqual(direct.code, 0);
  const line = await server.waitForLog((l) => l.code === 'FG_PROXY_HEADER' && /first bytes: SSH-2\.0-/.test(String(l.reason)));
  assert.equal(line.address, PROXY);
  assert.match(String(line.reason), /does not start with a PROXY protocol header/);

  // A connection that says nothing is closed at the deadline (5 s), having never reached ssh2.
  const started = Date.now();
  const received = await new Promise<string>((resolve, reject) => {
    let got = '';
    const s = connect({ port: server.port, host: '127.0.0.1', localAddress: PROXY });
    s.on('data', (d: Buffer) => { got += d.toString(); });
    s.once('close', () => resolve(got));
    s.once('error', reject);
    setTimeout(() => { s.destroy(); reject(new Error('still open after 15 s')); }, 15_000).unref();
  });
  assert.equal(received, '', 'not even the SSH identification was sent');
  assert.ok(Date.now() - started >= 4500, `closed after ${Date.now() - started} ms`);
  const timeout = await server.waitForLog((l) => l.code === 'FG_PROXY_HEADER' && /within 5000 ms/.test(String(l.reason)));
  assert.equal(timeout.address, PROXY);
});

test('a header that arrives in pieces is waited for, and the client bytes after it reach SSH intact', { skip }, async () => {
  // From the proxy's address, the way a balancer would: the header in two writes 200 ms apart,
  // then paramiko's SSH exchange on the same socket, as `two` from 127.0.0.2.
  const p = await python(`
import socket, struct, sys, time, paramiko
sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), source_address=(sys.argv[3], 0))
header = (b'\\r\\n\\r\\n\\x00\\r\\nQUIT\\n' + bytes([0x21, 0x11]) + struct.pack('!H', 12)
          + socket.inet_aton('127.0.0.2') + socket.inet_aton('127.0.0.1') + struct.pack('!HH', 40001, 22))
sock.sendall(header[:7]); time.sleep(0.2); sock.sendall(header[7:])
t = paramiko.Transport(sock)
t.connect(username='two', pkey=paramiko.Ed25519Key.from_private_key_file(sys.argv[2]))
print(sorted(paramiko.SFTPClient.from_transport(t).listdir('/')))
t.close()
`, [String(server.port), keys.two.privatePath, PROXY]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /\['dev', 'in', 'out'\]/);
  const login = await server.waitForLog((l) => l.event === 'login' && l.accountId === 'two' && l.port === 40001);
  assert.equal(login.address, '127.0.0.2');
  assert.equal(login.proxy, PROXY);
});

test('PROXY protocol v1 (haproxy send-proxy) is read too', { skip }, async () => {
  const v1 = await new Haproxy({ backendPort: server.port, source: PROXY, serverOptions: 'send-proxy' }).start();
  try {
    const r = await sftpBatch(v1.port, 'two', keys.two.privatePath, ['ls /'], ['-o', 'BindAddress=127.0.0.2']);
    assert.equal(r.code, 0, r.stderr);
    // two may log in from 127.0.0.2 only: the v1 header's address was the one used.
    const read = await server.waitForLog((l) => l.msg === 'PROXY protocol header read' && l.version === 1 && l.address === '127.0.0.2');
    assert.equal(read.proxy, PROXY);
  } finally {
    await v1.stop();
  }
});

// Last: it bans 127.0.0.2.
test('bans apply to the real client address behind the proxy, never to the proxy', { skip }, async () => {
  // Three logins from 127.0.0.2 that offer only a key `two` does not have: three failures.
  for (let i = 0; i < 3; i++) assert.notEqual((await through('two', '127.0.0.2', keys.stranger)).code, 0);
  const ban = await server.waitForLog((l) => l.msg === 'address banned after repeated authentication failures');
  assert.equal(ban.address, '127.0.0.2');
  assert.equal(ban.proxy, PROXY);

  const banned = await through('two', '127.0.0.2', keys.two);
  assert.notEqual(banned.code, 0, 'the banned client cannot log in with its right key');
  await server.waitForLog((l) => l.msg === 'connection refused: address banned after repeated failures' && l.address === '127.0.0.2');
  // The proxy, and the other clients behind it, are not banned.
  const other = await through('one', '127.0.0.1', keys.one);
  assert.equal(other.code, 0, other.stderr);
  assert.ok(!server.logs.some((l) => l.msg?.toString().startsWith('address banned') && l.address === PROXY));
});
