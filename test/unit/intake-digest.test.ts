import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { digestFile } from '../../core/intake/hash';

// The receipt's digests (intake/hash.ts) read the file through one reused buffer: every size
// must give the digests of the whole file, whatever its chunking (1 MiB reads).
const dir = mkdtempSync(join(tmpdir(), 'fg-digest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12345]) {
  test(`digestFile: a file of ${size} bytes gives its size, SHA-1 and SHA-256`, async () => {
    const bytes = randomBytes(size);
    const path = join(dir, `f${size}`);
    writeFileSync(path, bytes);
    assert.deepEqual(await digestFile(path), {
      size,
      sha1: createHash('sha1').update(bytes).digest('hex'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });
}

test('digestFile: a missing file rejects with ENOENT (nothing left open)', async () => {
  await assert.rejects(digestFile(join(dir, 'missing')), { code: 'ENOENT' });
});
