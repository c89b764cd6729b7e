/**
 * core/sftp/session/raw-replies.ts writes SFTP replies on the channel through ssh2 internals (the
 * SFTP object's `_protocol.channelData`, `outgoing`, `_buffer`). These tests drive a real ssh2 SFTP
 * server object (only its transport, which would encrypt, is replaced by a recorder, as in
 * sftp-write-framing.test.ts) and fail when ssh2 changes what they rely on. The real clients' side
 * is in test/integration/sftp-write-acks.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SFTPWrapper } from 'ssh2';
import { rawChannelOf, sendOkStatuses } from '../../core/sftp/session/raw-replies';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an ssh2 internal without type declarations: an import would not type-check
const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: new (client: unknown, chanInfo: unknown, cfg: unknown) => SFTPWrapper };

function ssh2Sftp(window = 2 ** 30): { sftp: SFTPWrapper; sent: Buffer[] } {
  const sent: Buffer[] = [];
  const client = { _protocol: { _remoteIdentRaw: 'SSH-2.0-OpenSSH_9.2p1', channelData: (_id: number, data: Buffer) => sent.push(Buffer.from(data)), channelClose: () => undefined } };
  const chanInfo = { type: 'session', incoming: { id: 0, window: 2 ** 21, packetSize: 32768, state: 'open' }, outgoing: { id: 1, window, packetSize: 32768, state: 'open' } };
  return { sftp: new SFTP(client, chanInfo, { server: true }), sent };
}

test('ssh2 still has the channel internals raw replies need', () => {
  assert.ok(rawChannelOf(ssh2Sftp().sftp), 'ssh2 internals changed: see core/sftp/session/raw-replies.ts');
});

test('the OKs of a run leave as one channel-data message, byte for byte what ssh2 sends for each', () => {
  const requests = [7, 8, 9, 2 ** 32 - 1];
  const batched = ssh2Sftp();
  assert.equal(sendOkStatuses(batched.sftp, requests), true);
  assert.equal(batched.sent.length, 1);

  const oneByOne = ssh2Sftp();
  for (const reqid of requests) oneByOne.sftp.status(reqid, 0);
  assert.equal(oneByOne.sent.length, requests.length);
  assert.deepEqual(batched.sent[0], Buffer.concat(oneByOne.sent));
  // And the channel's window was charged for them, as ssh2 charges its own.
  const out = (s: SFTPWrapper): number => (s as unknown as { outgoing: { window: number } }).outgoing.window;
  assert.equal(out(batched.sftp), out(oneByOne.sftp));
});

test('nothing is sent when the window cannot take them all, or ssh2 still holds earlier replies: the caller answers one by one', () => {
  const narrow = ssh2Sftp(40);
  assert.equal(sendOkStatuses(narrow.sftp, [1, 2]), false, '42 bytes against a window of 40');
  assert.deepEqual(narrow.sent, []);

  // A reply ssh2 queued for want of window must leave before any later one.
  const queued = ssh2Sftp(10);
  queued.sftp.status(1, 0);
  assert.ok((queued.sftp as unknown as { _buffer: unknown[] })._buffer.length > 0);
  (queued.sftp as unknown as { outgoing: { window: number } }).outgoing.window = 2 ** 20;
  const before = queued.sent.length;
  assert.equal(sendOkStatuses(queued.sftp, [2]), false);
  assert.equal(queued.sent.length, before);
});
