/**
 * core/sftp/session/upload-scavenge.ts: while an upload runs, the server scavenges every
 * SCAVENGE_EVERY_BYTES received, so the socket buffers of what was written are freed within
 * 8 MiB instead of waiting for V8's own scavenge (~every 25 MB of an upload) or a mark-compact.
 * Seen through V8's --trace-gc lines: a scavenge the server asks for has the reason "testing"
 * (V8's name for a GC requested through its gc function), V8's own ones "allocation failure"
 * or "task".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer } from '../helpers/server';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';
import { SCAVENGE_EVERY_BYTES } from '../../core/sftp/session/upload-scavenge';

const skip = skipUnless('sftp', 'ssh-keygen');
const MiB = 1024 * 1024;
let server: TestServer;
let key: TestKey;
const local = mkdtempSync(join(tmpdir(), 'fg-scavenge-'));

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  server = await new TestServer({ nodeArgs: ['--trace-gc'], config: { engine: { watch: false } } }).start();
  const add = await server.cli('account', 'add', 'acme', '--key', key.publicPath);
  assert.equal(add.code, 0, add.stderr);
});

after(async () => { await server?.stop(); await server?.cleanup(); rmSync(local, { recursive: true, force: true }); });

const requestedScavenges = (from: number, to: number): number => server.otherOutput
  .filter((o) => o.at >= from && o.at <= to && / ms: Scavenge .* testing;/.test(o.line)).length;

test('an upload is scavenged every SCAVENGE_EVERY_BYTES received (8 MiB), and arrives whole', { skip }, async () => {
  assert.equal(SCAVENGE_EVERY_BYTES, 8 * MiB);
  const content = randomBytes(48 * MiB);
  const file = join(local, 'big.bin');
  writeFileSync(file, content);
  const started = Date.now();
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${file} /dev/big.bin`, 'bye']);
  assert.equal(r.code, 0, r.stderr);
  // The trace lines of the last scavenge may arrive just after the client has exited.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const scavenges = requestedScavenges(started, Date.now());
  // 48 MiB in 8 MiB steps: 6, or 5 if the last step ends after the last WRITE.
  assert.ok(scavenges >= 5 && scavenges <= 6, `${scavenges} scavenges requested during a 48 MiB upload:\n${server.otherOutput.filter((o) => o.at >= started).map((o) => o.line).join('\n')}`);
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(join(server.dataDir, 'sftp', 'acme', 'dev', 'big.bin'))), sha(content));
});
