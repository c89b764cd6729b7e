import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_BYTES, WriteBuffer } from '../../core/sftp/session/write-buffer';

const dir = mkdtempSync(join(tmpdir(), 'fg-wbuf-'));

test('WRITE data given in pieces lands at its offsets; every request is reported written, empty ones at once', async () => {
  const file = join(dir, 'pieces.bin');
  const fd = openSync(file, 'w');
  let written = 0;
  const buffer = new WriteBuffer(fd, (ids, err) => { assert.equal(err, undefined); written += ids.length; }, { sync: true });
  const data = randomBytes(3 * RUN_BYTES + 777);
  const step = 255 * 1024;
  let requests = 0;
  for (let p = 0; p < data.length; p += step) {
    const chunk = data.subarray(p, Math.min(p + step, data.length));
    // As write-framing.ts hands them: the request's data split where SSH packets ended.
    buffer.addPieces(requests, p, [chunk.subarray(0, 1000), chunk.subarray(1000, 40000), chunk.subarray(40000)], chunk.length);
    requests++;
  }
  // An empty WRITE has nothing to wait for: it must not stay counted in flight (the session's
  // write gate would otherwise never reopen after enough of them).
  const before = written;
  buffer.addPieces(requests, data.length, [], 0);
  assert.equal(written, before + 1);
  await buffer.drain();
  closeSync(fd);
  assert.equal(buffer.failed, undefined);
  assert.equal(written, requests + 1);
  assert.ok(readFileSync(file).equals(data));
});

test('a lone small WRITE is acknowledged once written, without waiting for more data or a drain (a client that waits for each answer)', async () => {
  const file = join(dir, 'lone.bin');
  const fd = openSync(file, 'w');
  const settled: number[] = [];
  const buffer = new WriteBuffer(fd, (ids, err) => { assert.equal(err, undefined); settled.push(...ids); });
  buffer.add(7, 0, Buffer.from('first'));
  assert.deepEqual(settled, [], 'not acknowledged before it is written');
  for (let i = 0; i < 200 && settled.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(settled, [7]);
  assert.equal(readFileSync(file, 'utf8'), 'first', 'on disk when acknowledged');
  buffer.add(8, 5, Buffer.from('-second'));
  for (let i = 0; i < 200 && settled.length === 1; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(settled, [7, 8]);
  assert.equal(readFileSync(file, 'utf8'), 'first-second');
  closeSync(fd);
});
