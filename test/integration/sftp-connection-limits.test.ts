import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer } from '../helpers/server';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';

// Its own server with small limits: 4 connections not logged in per address, 6 in all, 2 s to
// log in, and 4 failures ban (this file bans 127.0.0.2 on purpose). Linux routes all of
// 127.0.0.0/8 to the loopback, so 127.0.0.2 and 127.0.0.3 are other client addresses.
const skip = skipUnless('sftp', 'ssh-keygen');
const SHARED_HOST_KEYS = join(tmpdir(), 'fluxgate-test-hostkeys');
const GRACE_SECONDS = 2;
let server: TestServer;
let key: TestKey;

/** A raw TCP client: what the server sends, and when it closes the connection. */
interface Raw {
  socket: Socket;
  openedAt: number;
  received: string;
  closedAt?: number;
  closed: Promise<void>;
}

async function raw(from: string, banner: boolean): Promise<Raw> {
  const socket = connect({ host: '127.0.0.1', port: server.port, localAddress: from });
  const r: Raw = { socket, openedAt: 0, received: '', closed: Promise.resolve() };
  r.closed = new Promise((resolve) => socket.once('close', () => { r.closedAt = Date.now(); resolve(); }));
  socket.on('data', (d: Buffer) => { r.received += d.toString('latin1'); });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  r.openedAt = Date.now();
  // What the audit's flood sent: an identification line, then nothing.
  if (banner) socket.write('SSH-2.0-flood_1.0\r\n');
  return r;
}

/** Resolves true when the server has closed the connection within `ms`. */
const closedWithin = (r: Raw, ms: number): Promise<boolean> =>
  Promise.race([r.closed.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), ms))]);

const login = (from: string) => sftpBatch(server.port, 'acme', key.privatePath, ['ls /'], ['-o', `BindAddress=${from}`]);

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  server = await new TestServer({
    config: {
      sftp: {
        maxStartups: 6, maxStartupsPerAddress: 4, loginGraceSeconds: GRACE_SECONDS,
        bruteForce: { maxFailures: 4, windowSeconds: 300, banSeconds: 600 }, hostKeysDir: SHARED_HOST_KEYS,
      },
    },
  }).start();
  assert.equal((await server.cli('account', 'add', 'acme', '--key', key.publicPath)).code, 0);
});

after(async () => { await server?.stop(); await server?.cleanup(); });

test('connections not logged in are capped per address and in total; extra ones are refused at once and logged', { skip }, async () => {
  // 4 from 127.0.0.1 (two silent, two that only send a banner) fill its share.
  const held = [await raw('127.0.0.1', true), await raw('127.0.0.1', true), await raw('127.0.0.1', false), await raw('127.0.0.1', false)];
  const overAddress = await raw('127.0.0.1', true);
  assert.ok(await closedWithin(overAddress, 1000), 'the 5th connection from one address is closed at once');
  assert.equal(overAddress.received, '', 'refused before the SSH exchange starts');
  const refusedLogin = await login('127.0.0.1');
  assert.notEqual(refusedLogin.code, 0, 'a real client from that address is refused too while the slots are held');
  const perAddress = await server.waitForLog((l) => l.msg === 'connection refused: too many connections not logged in from this address');
  assert.equal(perAddress.address, '127.0.0.1');
  assert.equal(perAddress.limit, 4);

  // 2 more from 127.0.0.2 reach the total of 6; the next one, from anywhere, is refused.
  held.push(await raw('127.0.0.2', true), await raw('127.0.0.2', false));
  const overTotal = await raw('127.0.0.3', true);
  assert.ok(await closedWithin(overTotal, 1000), 'the 7th connection in all is closed at once');
  assert.equal(overTotal.received, '');
  const total = await server.waitForLog((l) => l.msg === 'connection refused: too many connections not logged in');
  assert.equal(total.address, '127.0.0.3');
  assert.equal(total.limit, 6);

  // The admitted ones were served (the server's identification line) and are still open.
  for (const r of held) {
    assert.match(r.received, /^SSH-2\.0-fluxgate/);
    assert.equal(r.closedAt, undefined);
  }
  // Once they go away, logins work again (a logged-in connection does not count).
  for (const r of held) r.socket.destroy();
  await Promise.all(held.map((r) => r.closed));
  await new Promise((r) => setTimeout(r, 200));
  const ok = await login('127.0.0.1');
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(!server.logs.some((l) => l.msg === 'address banned after repeated authentication failures'), 'refusals and clean closes are not failures');
});

test(`a connection not logged in after ${GRACE_SECONDS} s is closed and counts as a failure: a flood gets its address banned`, { skip }, async () => {
  const flood = [await raw('127.0.0.2', true), await raw('127.0.0.2', true), await raw('127.0.0.2', false), await raw('127.0.0.2', false)];
  // Meanwhile a real client from another address logs in and stays well within its grace time.
  const ok = await login('127.0.0.1');
  assert.equal(ok.code, 0, ok.stderr);
  for (const r of flood) assert.ok(await closedWithin(r, GRACE_SECONDS * 1000 + 3000), 'closed by the server after the grace time');
  for (const r of flood) {
    const held = r.closedAt! - r.openedAt;
    assert.ok(held >= GRACE_SECONDS * 1000 - 100 && held < GRACE_SECONDS * 1000 + 2500, `held ${held} ms`);
  }
  // Each is logged (the lines may reach this process just after the sockets close).
  const expired = (): number => server.logs.filter((l) => l.msg === 'no login in time, disconnecting' && l.address === '127.0.0.2').length;
  for (let i = 0; i < 100 && expired() < 4; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(expired(), 4, 'each is logged');
  const ban = await server.waitForLog((l) => l.msg === 'address banned after repeated authentication failures' && l.address === '127.0.0.2');
  assert.equal(ban.banSeconds, 600);
  assert.notEqual((await login('127.0.0.2')).code, 0, 'the flooding address is banned');
  await server.waitForLog((l) => l.msg === 'connection refused: address banned after repeated failures' && l.address === '127.0.0.2');
  assert.equal((await login('127.0.0.1')).code, 0, 'other addresses are not');
});
