import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataPaths } from '../../core/config';
import { isFluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { decryptFile } from '../../core/pgp/decrypt';
import { ServerKeyStore, type ServerKey } from '../../core/pgp/server-key';
import { signFileDetached } from '../../core/pgp/sign';
import { REPO_ROOT } from '../helpers/server';
import { Gpg, loadedConfigFor } from '../helpers/pgp-gpg';
import { skipUnless } from '../helpers/tools';

const SAL = join(REPO_ROOT, 'test/fixtures/exchange/ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
const DIS = join(REPO_ROOT, 'test/fixtures/exchange/ndmat_acme_acme_dis_payroll_v2_261120092000.zip');
const LIMIT = { maxPlaintextBytes: 1024 ** 3 };

describe('pgp interop with GnuPG', { skip: skipUnless('gpg') }, () => {
  let dir: string;
  let work: string;
  let key: ServerKey;
  let gpg: Gpg;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-pgpgpg-'));
    work = join(dir, 'work');
    const dataDir = join(dir, 'var');
    key = await new ServerKeyStore(new DataPaths(dataDir), loadedConfigFor(dataDir, { pgp: { keyType: 'curve25519' } }), silentLogger()).load();
    gpg = new Gpg(join(dir, 'client-gnupg'));
    mkdirSync(gpg.home, { mode: 0o700 });
    writeFileSync(join(dir, 'server.asc'), key.armoredPublicKey);
    await gpg.importKey(join(dir, 'server.asc'));
  });
  after(async () => {
    await gpg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The work dir holds nothing but the named outputs: no leftover partial plaintext. */
  function workFiles(): string[] {
    return existsSync(work) ? readdirSync(work).sort() : [];
  }

  test('a fixture encrypted by gpg (binary, default options) decrypts to the same bytes', async () => {
    await gpg.encrypt(key.fingerprint, SAL, join(dir, 'sal.csv.gpg'));
    const out = join(work, 'sal.csv');
    const result = await decryptFile(key.privateKey, join(dir, 'sal.csv.gpg'), out, LIMIT);
    assert.deepEqual(readFileSync(out), readFileSync(SAL));
    assert.equal(result.bytes, readFileSync(SAL).length);
    assert.equal(result.armored, false);
    assert.equal(result.innerFileName, 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
  });

  test('armored and zlib-compressed messages of a binary file decrypt too', async () => {
    await gpg.encrypt(key.fingerprint, DIS, join(dir, 'dis.zip.pgp'), ['--armor', '--compress-algo', 'zlib']);
    assert.match(readFileSync(join(dir, 'dis.zip.pgp'), 'utf8'), /^-----BEGIN PGP MESSAGE-----/);
    const out = join(work, 'dis.zip');
    const result = await decryptFile(key.privateKey, join(dir, 'dis.zip.pgp'), out, LIMIT);
    assert.equal(result.armored, true);
    assert.deepEqual(readFileSync(out), readFileSync(DIS));
  });

  test('a message signed and encrypted by the client decrypts', async () => {
    await gpg.ok('--passphrase', '', '--quick-gen-key', 'HRIS <hris@acme.example>', 'future-default', 'default', 'never');
    await gpg.ok('--trust-model', 'always', '-r', key.fingerprint, '-u', 'hris@acme.example', '--passphrase', '',
      '--output', join(dir, 'signed.gpg'), '--sign', '--encrypt', SAL);
    await decryptFile(key.privateKey, join(dir, 'signed.gpg'), join(work, 'signed.csv'), LIMIT);
    assert.deepEqual(readFileSync(join(work, 'signed.csv')), readFileSync(SAL));
  });

  test('a tampered message is refused with FG_DECRYPT and leaves no plaintext behind', async () => {
    await gpg.encrypt(key.fingerprint, SAL, join(dir, 'tamper.gpg'));
    const bytes = readFileSync(join(dir, 'tamper.gpg'));
    bytes[bytes.length - 30] ^= 0x01; // inside the encrypted data, near the integrity check
    writeFileSync(join(dir, 'tamper.gpg'), bytes);
    const before = workFiles();
    await assert.rejects(decryptFile(key.privateKey, join(dir, 'tamper.gpg'), join(work, 'tamper.csv'), LIMIT),
      (err) => isFluxgateError(err, 'FG_DECRYPT') && /decrypted/.test(err.message));
    assert.deepEqual(workFiles(), before);
  });

  test('a truncated message is refused with FG_DECRYPT', async () => {
    const bytes = readFileSync(join(dir, 'sal.csv.gpg'));
    writeFileSync(join(dir, 'truncated.gpg'), bytes.subarray(0, bytes.length - 100));
    await assert.rejects(decryptFile(key.privateKey, join(dir, 'truncated.gpg'), join(work, 'truncated.csv'), LIMIT),
      (err) => isFluxgateError(err, 'FG_DECRYPT'));
    assert.equal(existsSync(join(work, 'truncated.csv')), false);
    assert.deepEqual(workFiles().filter((f) => f.startsWith('.')), [], 'no partial plaintext left');
  });

  test('garbage, a plain file and a message for another key are refused with FG_DECRYPT', async () => {
    writeFileSync(join(dir, 'garbage.pgp'), Buffer.from('this is not an OpenPGP message at all\n'.repeat(20)));
    await assert.rejects(decryptFile(key.privateKey, join(dir, 'garbage.pgp'), join(work, 'g.csv'), LIMIT),
      (err) => isFluxgateError(err, 'FG_DECRYPT'));
    await assert.rejects(decryptFile(key.privateKey, SAL, join(work, 'plain.csv'), LIMIT),
      (err) => isFluxgateError(err, 'FG_DECRYPT'));
    // Encrypted to the client's own key only: the server has no matching secret key.
    await gpg.ok('--trust-model', 'always', '-r', 'hris@acme.example', '--output', join(dir, 'other.gpg'), '--encrypt', SAL);
    await assert.rejects(decryptFile(key.privateKey, join(dir, 'other.gpg'), join(work, 'other.csv'), LIMIT),
      (err) => isFluxgateError(err, 'FG_DECRYPT'));
    assert.equal(existsSync(join(work, 'other.csv')), false);
  });

  test('refused messages leave no file descriptor open', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, async () => {
    const openFds = () => readdirSync('/proc/self/fd').length;
    const bytes = readFileSync(join(dir, 'sal.csv.gpg'));
    writeFileSync(join(dir, 'short.gpg'), bytes.subarray(0, 200)); // cut inside the encrypted data
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      for (const f of ['garbage.pgp', 'other.gpg', 'short.gpg']) {
        await assert.rejects(decryptFile(key.privateKey, join(dir, f), join(work, `fd-${i}.csv`), LIMIT),
          (err) => isFluxgateError(err, 'FG_DECRYPT'));
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(openFds() <= before + 2, `open descriptors grew from ${before} to ${openFds()}`);
  });

  test('a message that decrypts to more than the limit is refused and nothing is kept', async () => {
    const big = join(dir, 'big.csv');
    writeFileSync(big, 'x;y;z\r\n'.repeat(200_000)); // 1.4 MB, compresses to almost nothing
    await gpg.encrypt(key.fingerprint, big, join(dir, 'big.gpg'), ['--compress-algo', 'zlib']);
    await assert.rejects(decryptFile(key.privateKey, join(dir, 'big.gpg'), join(work, 'big.csv'), { maxPlaintextBytes: 100_000 }),
      (err) => isFluxgateError(err, 'FG_DECRYPT'));
    assert.equal(existsSync(join(work, 'big.csv')), false);
    assert.deepEqual(workFiles().filter((f) => f.startsWith('.')), []);
  });

  test('a detached signature made by the server verifies with gpg, and fails once the file changes', async () => {
    const report = join(dir, 'report.csv');
    writeFileSync(report, '\uFEFFline;severity;code;message\r\n1;info;;created\r\n');
    const sig = await signFileDetached(key.privateKey, report);
    assert.equal(sig, `${report}.sig`);
    const ok = await gpg.verify(sig, report);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /Good signature from "fluxgate <fluxgate@localhost>"/);
    assert.ok(ok.stderr.includes(key.fingerprint.slice(-16)), 'signed by the server key');

    writeFileSync(report, '\uFEFFline;severity;code;message\r\n1;info;;deleted\r\n');
    const bad = await gpg.verify(sig, report);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /BAD signature/);
  });

  // Up to 16 MiB a file is signed from memory (Node's crypto), beyond that streamed (openpgp's
  // own arithmetic): both must give signatures gpg accepts, with the default key type's
  // algorithm (RSA) as with curve25519.
  test('signatures of a small and of a 17 MiB file verify with gpg, with an RSA key and with curve25519', async () => {
    const rsaDir = join(dir, 'rsa');
    const rsa = await new ServerKeyStore(new DataPaths(rsaDir), loadedConfigFor(rsaDir, { pgp: { keyType: 'rsa3072' } }), silentLogger()).load();
    writeFileSync(join(dir, 'server-rsa.asc'), rsa.armoredPublicKey);
    await gpg.importKey(join(dir, 'server-rsa.asc'));
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'file;x\r\nresult;processed\r\n');
    const big = join(dir, 'big.csv');
    writeFileSync(big, Buffer.alloc(17 * 1024 * 1024, 'report line;\r\n'));
    for (const signer of [rsa, key]) {
      for (const file of [small, big]) {
        const sig = await signFileDetached(signer.privateKey, file);
        const ok = await gpg.verify(sig, file);
        assert.equal(ok.code, 0, `${signer.algorithm} ${file}: ${ok.stderr}`);
        assert.ok(ok.stderr.includes(signer.fingerprint.slice(-16)), `${file} signed by ${signer.algorithm}`);
      }
    }
  });
});
