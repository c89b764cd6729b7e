/**
 * The acknowledgements of WRITEs written together (one run, one `writev`: write-buffer.ts) leave
 * the server as one SSH channel-data message, not one message (one encryption, one socket write,
 * one TCP segment for the client to wake up to) per WRITE: core/sftp/session/raw-replies.ts.
 *
 * paramiko speaks SFTP on a raw subsystem channel here, so that the WRITEs are sent as one SSH
 * packet (they then arrive in one socket read and form one run, whatever the machine's load);
 * the transport's handler of CHANNEL_DATA messages is wrapped to count what the server sent.
 * Each answer is still checked: an OK per WRITE, in order, and the file as written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer } from '../helpers/server';
import { PARAMIKO_CONNECT, python } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';

const skip = skipUnless('ssh-keygen', 'paramiko');
let server: TestServer;
let key: TestKey;
const WRITES = 40;
const WRITE_BYTES = 512;

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  server = await new TestServer({ config: { engine: { watch: false } } }).start();
  const add = await server.cli('account', 'add', 'acme', '--key', key.publicPath);
  assert.equal(add.code, 0, add.stderr);
});

after(async () => { await server?.stop(); await server?.cleanup(); });

const RAW_WRITES = `${PARAMIKO_CONNECT}
import struct
from paramiko.common import MSG_CHANNEL_DATA
writes, size = int(sys.argv[4]), int(sys.argv[5])
chan = ssh.get_transport().open_session()
chan.invoke_subsystem('sftp')
counted = [0]
feed = paramiko.Transport._channel_handler_table[MSG_CHANNEL_DATA]
def counting_feed(ch, m):
    if ch is chan:
        counted[0] += 1
    return feed(ch, m)
paramiko.Transport._channel_handler_table[MSG_CHANNEL_DATA] = counting_feed

def recv_exact(n):
    b = b''
    while len(b) < n:
        part = chan.recv(n - len(b))
        if not part:
            raise SystemExit('channel closed')
        b += part
    return b
def packet(kind, body):
    return struct.pack('>IB', len(body) + 1, kind) + body
def reply():
    n, = struct.unpack('>I', recv_exact(4))
    body = recv_exact(n)
    return body[0], body[1:]
def sstr(b):
    return struct.pack('>I', len(b)) + b

chan.sendall(packet(1, struct.pack('>I', 3)))
assert reply()[0] == 2
# OPEN /dev/acks.bin WRITE|CREAT|TRUNC, no attributes
chan.sendall(packet(3, struct.pack('>I', 1) + sstr(b'/dev/acks.bin') + struct.pack('>II', 0x02 | 0x08 | 0x10, 0)))
kind, body = reply()
assert kind == 102, (kind, body)
handle = body[4 + 4:]
before = counted[0]
blob = b''.join(packet(6, struct.pack('>I', 100 + i) + sstr(handle) + struct.pack('>Q', i * size) + sstr(bytes([65 + i % 26]) * size)) for i in range(writes))
chan.sendall(blob)
answers = []
for i in range(writes):
    kind, body = reply()
    reqid, code = struct.unpack('>II', body[:8])
    answers.append((kind, reqid, code))
print('messages', counted[0] - before)
print('answers', 'ok' if answers == [(101, 100 + i, 0) for i in range(writes)] else answers)
chan.sendall(packet(4, struct.pack('>I', 2) + sstr(handle)))
kind, body = reply()
print('close', kind, struct.unpack('>II', body[:8]))
`;

test(`the OKs of ${WRITES} WRITEs written together reach the client in one SSH message, each in order`, { skip }, async () => {
  const r = await python(RAW_WRITES, [String(server.port), 'acme', key.privatePath, String(WRITES), String(WRITE_BYTES)]);
  assert.equal(r.code, 0, r.stderr);
  const line = (name: string): string => r.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? `${name} (no line): ${r.stdout}`;
  assert.equal(line('answers'), 'answers ok');
  assert.equal(line('close'), 'close 101 (2, 0)');
  const messages = Number(line('messages').split(' ')[1]);
  // One run of 20 KiB: one message; two if the WRITEs were split between two runs after all.
  assert.ok(messages >= 1 && messages <= 2, `${messages} CHANNEL_DATA messages carried the ${WRITES} OKs`);
  const expected = Buffer.concat(Array.from({ length: WRITES }, (_, i) => Buffer.alloc(WRITE_BYTES, 65 + (i % 26))));
  assert.deepEqual(readFileSync(join(server.dataDir, 'sftp', 'acme', 'dev', 'acks.bin')), expected);
});
