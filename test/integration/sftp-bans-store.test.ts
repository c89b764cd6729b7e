import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { BAN_REFRESH_MS } from '../../core/sftp/shared-bans';
import { python, sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// Its own server: this file bans 127.0.0.1 and 127.0.0.2 on purpose. Bans live in the store now
// (issue #20): they survive a restart, and `fluxgate bans remove` lifts one on the running server.
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
let server: TestServer;
let first: TestServer | undefined;
let key: TestKey;
const CONFIG = { sftp: { bruteForce: { maxFailures: 2, windowSeconds: 120, banSeconds: 600 }, loginGraceSeconds: 1 }, cluster: { nodeId: 'node-a' } };

interface BanJson { address: string; until: string; bannedAt: string; user: string; node: string | null }

/** One signed public-key login per connection, as `user`, with the test key: prints `refused` or `accepted`. */
const keyLogins = (user: string, times: number) => python(`
import sys, paramiko
port, user, path, times = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
pkey = paramiko.Ed25519Key.from_private_key_file(path)
for _ in range(times):
    try:
        t = paramiko.Transport(('127.0.0.1', port))
        t.connect()
        t.auth_publickey(user, pkey)
        print('accepted')
    except paramiko.AuthenticationException:
        print('refused')
    except Exception as e:
        print('closed', type(e).__name__)
    finally:
        t.close()
`, [String(server.port), user, key.privatePath, String(times)]);

const bans = async (): Promise<BanJson[]> => {
  const r = await server.cli('bans', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as BanJson[];
};

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  server = await new TestServer({ config: CONFIG }).start();
  assert.equal((await server.cli('account', 'add', 'victim', '--key', key.publicPath)).code, 0);
});

// The restart runs a second server on the first one's directory, which the first one's cleanup removes.
after(async () => { await server?.stop(); await first?.cleanup(); await server?.cleanup(); });

test('connections that never send their SSH identification are banned after maxFailures grace timeouts, with a login.banned event', { skip }, async () => {
  // From 127.0.0.2 (loopback too), so that the other test's address stays clean.
  const sockets = [0, 1].map(() => connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2' }));
  for (const s of sockets) s.on('error', () => {});
  try {
    const ban = await server.waitForLog((l) => l.msg === 'address banned after repeated authentication failures' && l.address === '127.0.0.2');
    assert.equal(ban.banSeconds, 600);
    let events: Array<{ account?: string | null; data: { address: string; user: string; until: string } }> = [];
    await until('the login.banned event', async () => {
      events = JSON.parse((await server.cli('events', 'list', '--type', 'login.banned', '--json')).stdout) as typeof events;
      return events.length > 0;
    });
    assert.equal(events.length, 1, 'one event per ban');
    assert.deepEqual([events[0].account ?? null, events[0].data.address, events[0].data.user], [null, '127.0.0.2', '']);
    assert.deepEqual((await bans()).map((b) => [b.address, b.user, b.node]), [['127.0.0.2', '', 'node-a']]);
  } finally {
    for (const s of sockets) s.destroy();
  }
});

test('a ban is in the store: it survives a restart, and `bans remove` lifts it on the running server within the refresh interval, audited', { skip, timeout: 120_000 }, async () => {
  assert.deepEqual((await keyLogins('intruder', 2)).stdout.trim().split('\n'), ['refused', 'refused']);
  await server.waitForLog((l) => l.msg === 'address banned after repeated authentication failures' && l.address === '127.0.0.1');
  const [banned] = (await bans()).filter((b) => b.address === '127.0.0.1');
  assert.deepEqual([banned.user, banned.node], ['intruder', 'node-a']);
  assert.ok(Date.parse(banned.until) > Date.now() + 500_000, 'banned for banSeconds (600)');

  // A restart: the ban was read from the store before the server listened again.
  await server.stop();
  first = server;
  server = await new TestServer({ dir: first.dir, config: CONFIG }).start();
  const refused = await sftpBatch(server.port, 'victim', key.privatePath, ['ls /']);
  assert.notEqual(refused.code, 0, 'the right key is refused: the address is still banned');
  await server.waitForLog((l) => l.msg === 'connection refused: address banned after repeated failures' && l.address === '127.0.0.1');

  const removed = await server.cli('bans', 'remove', '::ffff:127.0.0.1', '--json');
  assert.equal(removed.code, 0, removed.stderr);
  const liftedAt = Date.now();
  assert.deepEqual((JSON.parse(removed.stdout) as { removed: BanJson }).removed.address, '127.0.0.1');
  // The running server lets the address in again once its copy of the bans is refreshed.
  await until('a login after the lift', async () => (await sftpBatch(server.port, 'victim', key.privatePath, ['ls /'])).code === 0, 15_000, 100);
  const lateRefusals = server.logs.filter((l) => l.msg === 'connection refused: address banned after repeated failures'
    && l.address === '127.0.0.1' && (l.time as number) > liftedAt + BAN_REFRESH_MS + 250);
  assert.deepEqual(lateRefusals, [], `no refusal later than ${BAN_REFRESH_MS} ms (+250 ms for the read) after the lift`);
  assert.ok(!(await bans()).some((b) => b.address === '127.0.0.1'));

  const audit = JSON.parse((await server.cli('audit', '--json')).stdout) as Array<{ action: string; target: string; actor: string; detail: { user: string } }>;
  const entry = audit.find((e) => e.action === 'bans remove');
  assert.ok(entry, 'the lift is audited');
  assert.deepEqual([entry.target, entry.detail.user], ['127.0.0.1', 'intruder']);
  assert.match(entry.actor, /^cli:/);

  const again = await server.cli('bans', 'remove', '127.0.0.1', '--json');
  assert.equal(again.code, 1);
  assert.equal((JSON.parse(again.stderr.trim().split('\n').pop()!) as { error: { code: string } }).error.code, 'FG_BAN_NOT_FOUND');
  const bad = await server.cli('bans', 'remove', 'not-an-address');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"not-an-address" is not an IPv4 or IPv6 address/);
});
