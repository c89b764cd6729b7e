import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { DataPaths } from '../../core/config';
import { isFluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { decryptFile } from '../../core/pgp/decrypt';
import { ServerKeyStore, type ServerKey } from '../../core/pgp/server-key';
import { loadedConfigFor } from '../helpers/pgp-gpg';

/**
 * An interrupted decryption (the engine aborts running files when the server stops) is not a
 * bad file: it must not be FG_DECRYPT, which the engine would reject for good instead of running
 * it again at the next start, and the plaintext already written must not stay on disk.
 *
 * Tested on decryptFile itself, with the real server key and real files: through the engine,
 * a stop gives running files 5 s to finish, so the upload would need several hundred MB of
 * plaintext to be caught mid-decryption, and the runner (which never rejects a file once its
 * signal is aborted) and the work-dir clean-up would hide a regression here anyway.
 */
describe('pgp decryption interrupted by an abort', () => {
  let dir: string;
  let key: ServerKey;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-pgpabort-'));
    const dataDir = join(dir, 'var');
    key = await new ServerKeyStore(new DataPaths(dataDir), loadedConfigFor(dataDir, { pgp: { keyType: 'curve25519' } }), silentLogger()).load();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an abort in the middle is an AbortError, not FG_DECRYPT, and removes the plaintext written so far', async () => {
    // 64 MB of plaintext compressed to a few hundred kB: long enough to decrypt to be caught in the middle.
    const line = new TextEncoder().encode(`${'x;'.repeat(63)}y\n`);
    const plaintext = new Uint8Array(64 * 1024 ** 2);
    for (let i = 0; i < plaintext.length; i += line.length) plaintext.set(line.subarray(0, Math.min(line.length, plaintext.length - i)), i);
    const message = await openpgp.createMessage({ binary: plaintext });
    const bytes = await openpgp.encrypt({ message, encryptionKeys: key.publicKey, format: 'binary', config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } });
    writeFileSync(join(dir, 'big.csv.pgp'), bytes);

    const outDir = join(dir, 'work');
    mkdirSync(outDir);
    const controller = new AbortController();
    const decryption = decryptFile(key.privateKey, join(dir, 'big.csv.pgp'), join(outDir, 'big.csv'),
      { maxPlaintextBytes: 1024 ** 3, signal: controller.signal });
    const settled = decryption.then(() => 'finished', () => 'failed');

    // Abort once plaintext is on disk (the hidden work file has grown).
    let written = 0;
    while (written === 0 && await Promise.race([settled, new Promise((r) => setTimeout(() => r('running'), 5))]) === 'running') {
      written = readdirSync(outDir).reduce((sum, name) => sum + statSync(join(outDir, name)).size, 0);
    }
    assert.ok(written > 0, 'the decryption finished before plaintext could be seen on disk: make the message larger');
    controller.abort();

    await assert.rejects(decryption, (err) => {
      assert.equal((err as Error).name, 'AbortError', String(err));
      assert.equal(isFluxgateError(err, 'FG_DECRYPT'), false);
      return true;
    });
    assert.deepEqual(readdirSync(outDir), [], 'neither the output nor its hidden work file is left');
  });
});
