/**
 * core/sftp/session/write-framing.ts relies on ssh2 internals (the SFTP object's `push` and its
 * parser state). These tests drive a real ssh2 SFTP server object (ssh2's own parser and request
 * handlers; only its transport, which would encrypt replies, is replaced by a recorder) and fail
 * when ssh2 changes what the framing depends on. The real clients' side is in
 * test/integration/sftp-exchange.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SFTPWrapper } from 'ssh2';
import { advertiseLimits } from '../../core/sftp/session/openssh-limits';
import { installWriteFraming, MAX_PIECES, writeFramingSupported } from '../../core/sftp/session/write-framing';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an ssh2 internal without type declarations: an import would not type-check
const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: new (client: unknown, chanInfo: unknown, cfg: unknown) => SFTPWrapper };

function ssh2Sftp(): { sftp: SFTPWrapper; sent: Buffer[] } {
  const sent: Buffer[] = [];
  const client = { _protocol: { _remoteIdentRaw: 'SSH-2.0-OpenSSH_9.2p1', channelData: (_id: number, data: Buffer) => sent.push(Buffer.from(data)), channelClose: () => undefined } };
  const chanInfo = { type: 'session', incoming: { id: 0, window: 2 ** 21, packetSize: 32768, state: 'open' }, outgoing: { id: 1, window: 2 ** 30, packetSize: 2 ** 20, state: 'open' } };
  return { sftp: new SFTP(client, chanInfo, { server: true }), sent };
}

const push = (sftp: SFTPWrapper, data: Buffer): void => { (sftp as unknown as { push(d: Buffer): void }).push(data); };

function packet(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const str = (b: Buffer | string): Buffer => Buffer.concat([u32(Buffer.byteLength(b)), Buffer.from(b)]);
const u64 = (n: number): Buffer => Buffer.concat([u32(Math.floor(n / 2 ** 32)), u32(n % 2 ** 32)]);
const INIT = packet(1, u32(3));
const write = (reqid: number, handle: Buffer, offset: number, data: Buffer): Buffer => packet(6, Buffer.concat([u32(reqid), str(handle), u64(offset), str(data)]));
const close = (reqid: number, handle: Buffer): Buffer => packet(4, Buffer.concat([u32(reqid), str(handle)]));

/** Feeds `bytes` in pieces of the given sizes (cycled), like channel-data payloads. */
function feed(sftp: SFTPWrapper, bytes: Buffer, sizes: number[]): void {
  for (let p = 0, i = 0; p < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    push(sftp, bytes.subarray(p, p + n));
    p += n;
  }
}

test('ssh2 still has the SFTP parser internals the WRITE framing needs', () => {
  const { sftp } = ssh2Sftp();
  assert.equal(writeFramingSupported(sftp), true, 'ssh2 internals changed: see core/sftp/session/write-framing.ts');
  assert.equal(installWriteFraming(sftp, () => undefined), true);
  // Already receiving (parser state moved on): the framing must refuse rather than desynchronise.
  const { sftp: late } = ssh2Sftp();
  push(late, INIT.subarray(0, 2));
  assert.equal(writeFramingSupported(late), false);
});

test('WRITEs split anywhere (inside the header too) reach the sink whole; other packets reach ssh2 unchanged', () => {
  const { sftp, sent } = ssh2Sftp();
  const writes: Array<{ reqid: number; handle: string; offset: number; data: Buffer }> = [];
  installWriteFraming(sftp, (reqid, handle, offset, pieces, length) => {
    const data = Buffer.concat(pieces);
    assert.equal(data.length, length);
    assert.ok(pieces.length <= MAX_PIECES);
    writes.push({ reqid, handle: handle.toString(), offset, data });
  });
  advertiseLimits(sftp);
  const closes: number[] = [];
  let ready = false;
  sftp.on('ready', () => { ready = true; });
  sftp.on('CLOSE', (reqid: number) => closes.push(reqid));
  sftp.on('WRITE', () => assert.fail('a well-formed WRITE went to ssh2'));

  push(sftp, INIT);
  assert.equal(ready, true, 'INIT handled (VERSION with limits@openssh.com)');
  assert.match(Buffer.concat(sent).toString('latin1'), /limits@openssh\.com/);

  const big = randomBytes(255 * 1024);
  const small = randomBytes(1000);
  const stream = Buffer.concat([
    write(7, Buffer.from('h1'), 2 ** 33 + 5, big),
    close(8, Buffer.from('h9')),
    write(9, Buffer.from('handle-2'), 0, small),
    write(10, Buffer.from('h1'), 12, Buffer.alloc(0)),
    close(11, Buffer.from('h1')),
  ]);
  for (const sizes of [[32 * 1024 + 9], [1], [3, 7, 11, 32768], [stream.length]]) {
    writes.length = 0;
    closes.length = 0;
    feed(sftp, stream, sizes);
    assert.deepEqual(writes.map((w) => [w.reqid, w.handle, w.offset, w.data.length]), [[7, 'h1', 2 ** 33 + 5, big.length], [9, 'handle-2', 0, 1000], [10, 'h1', 12, 0]], `pieces of ${sizes.join(', ')}`);
    assert.ok(writes[0].data.equals(big));
    assert.ok(writes[1].data.equals(small));
    assert.deepEqual(closes, [8, 11], `pieces of ${sizes.join(', ')}`);
  }
});

test('a WRITE the framing does not fully understand is left to ssh2 (trailing bytes, oversized handle)', () => {
  const { sftp } = ssh2Sftp();
  const framed: number[] = [];
  installWriteFraming(sftp, (reqid) => framed.push(reqid));
  const viaSsh2: Array<[number, string]> = [];
  sftp.on('WRITE', (reqid: number, _h: Buffer, _o: number, data: Buffer) => viaSsh2.push([reqid, data.toString()]));
  const errors: string[] = [];
  sftp.on('error', (err: Error) => errors.push(err.message));
  push(sftp, INIT);
  // Data length shorter than the packet: ssh2 accepts it and ignores the rest.
  const odd = packet(6, Buffer.concat([u32(3), str('h'), u64(0), str('abc'), Buffer.from('junk')]));
  feed(sftp, Buffer.concat([odd, write(4, Buffer.from('h'), 3, Buffer.from('def'))]), [5]);
  assert.deepEqual(viaSsh2, [[3, 'abc']]);
  assert.deepEqual(framed, [4]);
  // A handle over 256 bytes is malformed for ssh2: its error, not ours.
  push(sftp, write(5, Buffer.alloc(300, 1), 0, Buffer.from('x')));
  assert.deepEqual(framed, [4]);
  assert.deepEqual(errors, ['Malformed WRITE packet']);
});
