import { strict as assert } from 'node:assert';
import { existsSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serialize } from 'node:v8';
import { readSpooled, spoolBatch } from '../../core/sandbox/batch-spool';

// A batch's body crosses through a file the sandbox writes (batch-spool.ts). The engine reads
// what the sandbox wrote, once, and nothing else the sandbox could point it at.
const invalid = (err: Error & { code?: string }) => err.code === 'FG_PLUGIN_INVALID';

test('a spooled batch is read back as it was written, then removed; the frame names only its number', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-spool-'));
  try {
    const ops = { values: [0, 0, -1, 'ACME', '1', null, 'Müller', true], shapes: [[['city'], null]], json: [] };
    assert.deepEqual(spoolBatch(dir, 1, ops), { t: 'batch', spooled: 1 });
    assert.deepEqual(readSpooled(dir, 1), ops);
    assert.equal(existsSync(join(dir, '1')), false, 'removed once read');
    assert.throws(() => readSpooled(dir, 1), invalid, 'read once only');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what the sandbox could put in its spool folder instead is refused with FG_PLUGIN_INVALID, never read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-spool-'));
  const outside = mkdtempSync(join(tmpdir(), 'fg-spool-secret-'));
  try {
    const secret = join(outside, 'secret');
    writeFileSync(secret, serialize({ values: ['a secret'] }));
    symlinkSync(secret, join(dir, '1'));
    assert.throws(() => readSpooled(dir, 1), invalid, 'a symbolic link');
    linkSync(secret, join(dir, '2'));
    assert.throws(() => readSpooled(dir, 2), invalid, 'a hard link');
    mkdirSync(join(dir, '3'));
    assert.throws(() => readSpooled(dir, 3), invalid, 'a folder');
    writeFileSync(join(dir, '4'), 'not V8\'s serialization');
    assert.throws(() => readSpooled(dir, 4), invalid, 'garbage');
    for (const n of ['../secret', -1, 0, 1.5, '1']) assert.throws(() => readSpooled(dir, n), invalid, `number ${String(n)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
