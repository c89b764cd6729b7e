import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer } from '../helpers/server';
import { run, sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { FloodClient } from '../helpers/sftp-flood';
import { skipUnless } from '../helpers/tools';

// Issue #17, items 8 and 9: one account flooding the server with pipelined OPENs and OPENDIRs
// over several channels and connections meets its limits (small ones here, so the test is
// fast), gets a FAILURE status naming the limit, and never takes the server's descriptors from
// the other accounts.
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
const SHARED_HOST_KEYS = join(tmpdir(), 'fluxgate-test-hostkeys');
const LIMITS = {
  connectionsPerAccount: 3, sessionsPerConnection: 3, sessionsPerAccount: 4,
  handlesPerSession: 8, handlesPerAccount: 20, handlesTotal: 30,
};
const FAILURE = 4;
let server: TestServer;
const keys: Record<string, TestKey> = {};
const local = mkdtempSync(join(tmpdir(), 'fg-limits-'));
const floods: FloodClient[] = [];

const flood = (user: string): FloodClient => {
  const f = FloodClient.start(server.port, user, keys[user].privatePath);
  floods.push(f);
  return f;
};
const openFds = (): number => readdirSync(`/proc/${server.pid}/fd`).length;
const times = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);
/** OpenSSH `sftp` with its default log level, at which it prints why a channel was refused (sftpBatch's ERROR hides it). */
const sftpInfo = (user: string, commands: string[]) => run('sftp', [
  '-b', '-', '-i', keys[user].privatePath, '-P', String(server.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=INFO', `${user}@127.0.0.1`,
], { input: commands.join('\n') + '\n' });
/** OpenSSH `sftp` as `other`: lists out/sir and puts a file into dev/. */
const otherWorks = (name: string) => sftpBatch(server.port, 'other', keys.other.privatePath, ['ls /out/sir', `put ${join(local, 'small.csv')} /dev/${name}`]);

before(async () => {
  if (skip) return;
  server = await new TestServer({ config: { engine: { watch: false }, sftp: { hostKeysDir: SHARED_HOST_KEYS, limits: LIMITS } } }).start();
  for (const user of ['flood', 'flood2', 'other', 'conn']) {
    keys[user] = makeKey('ed25519');
    assert.equal((await server.cli('account', 'add', user, '--key', keys[user].publicPath)).code, 0);
    writeFileSync(join(server.dataDir, 'sftp', user, 'out', 'sir', 'report.csv'), 'a;b\n1;2\n');
  }
  writeFileSync(join(local, 'small.csv'), 'x\n');
});

after(async () => {
  for (const f of floods) await f.stop();
  await server?.stop();
  await server?.cleanup();
  rmSync(local, { recursive: true, force: true });
});

test('pipelined OPEN/OPENDIR floods stop at the session, account and server limits with a FAILURE naming the limit; descriptors stay bounded; other accounts keep working', { skip }, async () => {
  const fdsBefore = openFds();
  const a = flood('flood');
  await a.must({ op: 'connect' });
  for (let i = 0; i < 3; i++) await a.must({ op: 'channel', conn: 0 });

  // Session limit: 50 pipelined OPENs for reading on one channel, 8 get a handle.
  const reads = await a.must({ op: 'open', chan: 0, kind: 'read', paths: times(50, '/out/sir/report.csv') });
  assert.equal(reads.handles, 8);
  assert.deepEqual(reads.errors, { [`${FAILURE} too many open handles (limit 8 per session): close some before opening more`]: 42 });
  // Directory handles count alike, and each still lists.
  const dirs = await a.must({ op: 'open', chan: 1, kind: 'dir', paths: times(50, '/out/sir'), readdir: true });
  assert.equal(dirs.handles, 8);
  assert.deepEqual(dirs.entries, times(8, 1));
  // Account limit: 20 over all its sessions.
  const third = await a.must({ op: 'open', chan: 2, kind: 'read', paths: times(50, '/out/sir/report.csv') });
  assert.equal(third.handles, 4);
  assert.deepEqual(third.errors, { [`${FAILURE} too many open handles for account flood (limit 20 per account, over all its sessions): close some before opening more`]: 46 });
  const warned = await server.waitForLog((l) => l.msg === 'limit reached' && l.setting === 'sftp.limits.handlesPerAccount');
  assert.equal(warned.accountId, 'flood');
  // Logged once per session and limit as a warning, the other refusals at debug level.
  const perSession = server.logs.filter((l) => l.msg === 'limit reached' && l.setting === 'sftp.limits.handlesPerSession');
  assert.equal(perSession.length, 84);
  assert.equal(perSession.filter((l) => l.level === 40).length, 2);

  // Another account is not bothered by that one's flood.
  const during = await otherWorks('during.csv');
  assert.equal(during.code, 0, during.stderr);
  assert.match(during.stdout, /report\.csv/);

  // Server limit: 30 handles in all; a second flooding account gets the rest (10), then the server's refusal.
  const b = flood('flood2');
  await b.must({ op: 'connect' });
  await b.must({ op: 'channel', conn: 0 });
  await b.must({ op: 'channel', conn: 0 });
  const b1 = await b.must({ op: 'open', chan: 0, kind: 'read', paths: times(50, '/out/sir/report.csv') });
  const b2 = await b.must({ op: 'open', chan: 1, kind: 'dir', paths: times(50, '/out/sir') });
  assert.equal(b1.handles! + b2.handles!, 10);
  assert.equal(b2.handles, 2);
  assert.deepEqual(b2.errors, { [`${FAILURE} the server has too many open handles (limit 30 for all accounts): try again in a moment`]: 48 });

  // The descriptors the floods hold: their handles, and a socket per connection, nothing more.
  const fdsDuring = openFds();
  assert.ok(fdsDuring - fdsBefore <= 30 + 2 + 10, `server descriptors went from ${fdsBefore} to ${fdsDuring}`);

  // With every handle taken, other accounts still log in (headroom); opening is refused, clearly.
  const full = await sftpBatch(server.port, 'other', keys.other.privatePath, ['pwd', 'ls /out/sir']);
  assert.notEqual(full.code, 0);
  assert.match(full.stdout, /Remote working directory: \//, 'logged in');
  await server.waitForLog((l) => l.msg === 'limit reached' && l.accountId === 'other' && l.setting === 'sftp.limits.handlesTotal');

  // Once the flood closes its handles, everything works again.
  for (let chan = 0; chan < 3; chan++) await a.must({ op: 'close', chan });
  const afterwards = await otherWorks('after.csv');
  assert.equal(afterwards.code, 0, afterwards.stderr);
  assert.deepEqual(readdirSync(join(server.dataDir, 'sftp', 'other', 'dev')).sort(), ['after.csv', 'during.csv']);
  await b.stop();
  await a.stop();
  assert.ok(server.logs.every((l) => (l.level as number) < 50), 'no error logged');
});

test('a client that drops its connection with OPENs in progress leaves no descriptor and no handle counted behind', { skip }, async () => {
  const fdsBefore = openFds();
  for (let round = 0; round < 5; round++) {
    const f = flood('flood');
    await f.must({ op: 'connect' });
    await f.must({ op: 'channel', conn: 0 });
    await f.must({ op: 'blast', conn: 0, chan: 0, paths: times(8, '/out/sir/report.csv') });
    await f.stop();
  }
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(openFds() <= fdsBefore + 2, `server descriptors went from ${fdsBefore} to ${openFds()}`);
  // The account's 20 handles are all there to take again.
  const f = flood('flood');
  await f.must({ op: 'connect' });
  let opened = 0;
  for (let chan = 0; chan < 3; chan++) {
    await f.must({ op: 'channel', conn: 0 });
    opened += (await f.must({ op: 'open', chan, kind: 'read', paths: times(8, '/out/sir/report.csv') })).handles!;
  }
  assert.equal(opened, 20);
  await f.stop();
});

test('sessions per connection and per account, and connections per account: refused with the limit named (OpenSSH prints it)', { skip }, async () => {
  // The previous test's flood exited holding 3 sessions (its sockets just closed, no CHANNEL_CLOSE):
  // they were given back, or these would be refused.
  const a = flood('flood');
  await a.must({ op: 'connect' });
  for (let i = 0; i < 3; i++) await a.must({ op: 'channel', conn: 0 });
  // A 4th channel on that connection: over sessionsPerConnection (3).
  assert.match((await a.send({ op: 'channel', conn: 0 })).error ?? '', /ChannelException.*Administratively prohibited/);
  await server.waitForLog((l) => l.msg === 'session refused' && l.accountId === 'flood' && /too many sessions on this connection \(limit 3 per connection\)/.test(String(l.reason)));
  // A second connection: one more channel reaches sessionsPerAccount (4); OpenSSH's is refused.
  await a.must({ op: 'connect' });
  await a.must({ op: 'channel', conn: 1 });
  const refused = await sftpInfo('flood', ['ls /']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /open failed: administratively prohibited: too many sessions for account flood \(limit 4 per account, over all its connections\)/);
  // The sessions of a closed connection are given back.
  await a.must({ op: 'disconnect', conn: 1 });
  await new Promise((r) => setTimeout(r, 300));
  const ok = await sftpBatch(server.port, 'flood', keys.flood.privatePath, ['ls /']);
  assert.equal(ok.code, 0, ok.stderr);
  await a.stop();

  // connectionsPerAccount (3): a 4th connection logs in, its channel is refused with the reason, and it is closed.
  const c = flood('conn');
  for (let i = 0; i < 3; i++) await c.must({ op: 'connect' });
  const fourth = await sftpInfo('conn', ['ls /']);
  assert.notEqual(fourth.code, 0);
  assert.match(fourth.stderr, /open failed: administratively prohibited: too many connections for account conn \(limit 3 per account\): close one before connecting again/);
  const logged = await server.waitForLog((l) => l.msg === 'connection refused: too many connections for this account');
  assert.equal(logged.accountId, 'conn');
  assert.equal(logged.setting, 'sftp.limits.connectionsPerAccount');
  await c.must({ op: 'disconnect', conn: 0 });
  await new Promise((r) => setTimeout(r, 300));
  const again = await sftpBatch(server.port, 'conn', keys.conn.privatePath, ['ls /']);
  assert.equal(again.code, 0, again.stderr);
  await c.stop();
  // None of this counts as an authentication failure.
  assert.ok(!server.logs.some((l) => l.msg === 'address banned after repeated authentication failures'));
  assert.match(readFileSync(join(server.dataDir, 'sftp', 'other', 'out', 'sir', 'report.csv'), 'utf8'), /^a;b/);
});

test('under a real open-file limit of 600 (prlimit), a flood takes the handles the budget allows, never the descriptors logins need', { skip: skip || skipUnless('prlimit') }, async () => {
  // Default sftp.limits: 256 handles per session; the budget comes from the limit: 600 - 256 kept back = 344.
  const small = await new TestServer({ wrapper: ['prlimit', '--nofile=600:600'], config: { sftp: { hostKeysDir: SHARED_HOST_KEYS } } }).start();
  const flooders: FloodClient[] = [];
  try {
    const listening = await small.waitForLog((l) => l.msg === 'listening');
    assert.equal(listening.descriptorLimit, 600);
    assert.equal(listening.descriptorHeadroom, 256);
    assert.equal((listening.limits as { handlesTotal: number }).handlesTotal, 344);
    for (const user of ['flood', 'other']) assert.equal((await small.cli('account', 'add', user, '--key', keys[user].publicPath)).code, 0);
    writeFileSync(join(small.dataDir, 'sftp', 'flood', 'out', 'sir', 'report.csv'), 'a;b\n');
    const f = FloodClient.start(small.port, 'flood', keys.flood.privatePath);
    flooders.push(f);
    await f.must({ op: 'connect' });
    let opened = 0;
    const refusals: Record<string, number> = {};
    for (let chan = 0; chan < 3; chan++) {
      await f.must({ op: 'channel', conn: 0 });
      const r = await f.must({ op: 'open', chan, kind: chan === 1 ? 'dir' : 'read', paths: times(256, chan === 1 ? '/out/sir' : '/out/sir/report.csv') });
      opened += r.handles!;
      for (const [k, n] of Object.entries(r.errors!)) refusals[k] = (refusals[k] ?? 0) + n;
    }
    assert.equal(opened, 344);
    assert.deepEqual(refusals, { [`${FAILURE} the server has too many open handles (limit 344 for all accounts): try again in a moment`]: 3 * 256 - 344 });
    // Logins still find descriptors: several at once, while the flood holds its handles.
    const logins = await Promise.all(Array.from({ length: 5 }, () => sftpBatch(small.port, 'other', keys.other.privatePath, ['pwd'])));
    for (const r of logins) assert.equal(r.code, 0, r.stderr);
    assert.ok(!small.logs.some((l) => /EMFILE|too many open files/i.test(JSON.stringify(l))), 'the process never ran out of descriptors');
    await f.stop();
    const after = await sftpBatch(small.port, 'other', keys.other.privatePath, ['ls /out/sir', `put ${join(local, 'small.csv')} /dev/x.csv`]);
    assert.equal(after.code, 0, after.stderr);
  } finally {
    for (const f of flooders) await f.stop();
    await small.stop();
    await small.cleanup();
  }
});
