import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DataPaths } from '../../core/config';
import { isFluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { isEncryptedName, stripEncryptedSuffix } from '../../core/pgp/names';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, ServerKeyStore, parseUserId } from '../../core/pgp/server-key';
import { Gpg, loadedConfigFor } from '../helpers/pgp-gpg';
import { skipUnless } from '../helpers/tools';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-pgpkey-'));
  dirs.push(dir);
  return dir;
}
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function storeFor(dataDir: string, pgp: Record<string, unknown> = { keyType: 'curve25519' }, file?: string): ServerKeyStore {
  return new ServerKeyStore(new DataPaths(dataDir), loadedConfigFor(dataDir, { pgp }, file), silentLogger());
}

describe('pgp server key', () => {
  test('is generated on first use with private modes, and the same key is loaded again', async () => {
    const dataDir = tempDir();
    const key = await storeFor(dataDir).load();
    const pgpDir = join(dataDir, 'pgp');
    assert.equal(statSync(pgpDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(pgpDir, PRIVATE_KEY_FILE)).mode & 0o777, 0o600);
    assert.match(readFileSync(join(pgpDir, PRIVATE_KEY_FILE), 'utf8'), /BEGIN PGP PRIVATE KEY BLOCK/);
    assert.equal(readFileSync(join(pgpDir, PUBLIC_KEY_FILE), 'utf8'), key.armoredPublicKey);
    assert.match(key.armoredPublicKey, /BEGIN PGP PUBLIC KEY BLOCK/);
    assert.doesNotMatch(key.armoredPublicKey, /PRIVATE/);
    assert.match(key.fingerprint, /^[0-9A-F]{40}$/);
    assert.equal(key.source, 'generated');
    assert.deepEqual(key.userIds, ['fluxgate <fluxgate@localhost>']);

    const again = await storeFor(dataDir).load();
    assert.equal(again.fingerprint, key.fingerprint);
  });

  test('two processes generating at once end up with one key', async () => {
    const dataDir = tempDir();
    const [a, b] = await Promise.all([storeFor(dataDir).load(), storeFor(dataDir).load()]);
    assert.equal(a.fingerprint, b.fingerprint);
    const onDisk = await storeFor(dataDir).load();
    assert.equal(onDisk.fingerprint, a.fingerprint);
  });

  test('an RSA key is generated when asked, with the configured user id', async () => {
    const key = await storeFor(tempDir(), { keyType: 'rsa3072', userId: 'ACME exchange <pgp@acme.example>' }).load();
    assert.equal(key.algorithm, 'rsaEncryptSign3072');
    assert.deepEqual(key.userIds, ['ACME exchange <pgp@acme.example>']);
  });

  test('a generated key is passphrase-protected on disk when pgp.passphraseEnv is set', async () => {
    const dataDir = tempDir();
    process.env.FG_TEST_PGP_PASS = 'correct horse battery staple';
    try {
      const key = await storeFor(dataDir, { keyType: 'curve25519', passphraseEnv: 'FG_TEST_PGP_PASS' }).load();
      const armored = readFileSync(join(dataDir, 'pgp', PRIVATE_KEY_FILE), 'utf8');
      const openpgp = await import('openpgp');
      const onDisk = await openpgp.readPrivateKey({ armoredKey: armored });
      assert.equal(onDisk.isDecrypted(), false);
      assert.equal(key.privateKey.isDecrypted(), true);
      // Without the passphrase the key cannot be used: a clear FG_PGP at start.
      await assert.rejects(storeFor(dataDir, { keyType: 'curve25519' }).load(),
        (err) => isFluxgateError(err, 'FG_PGP') && /passphrase-protected/.test(err.message));
      process.env.FG_TEST_PGP_PASS = 'wrong';
      await assert.rejects(storeFor(dataDir, { keyType: 'curve25519', passphraseEnv: 'FG_TEST_PGP_PASS' }).load(),
        (err) => isFluxgateError(err, 'FG_PGP') && /cannot unlock/.test(err.message));
    } finally {
      delete process.env.FG_TEST_PGP_PASS;
    }
  });

  test('a configured private key (exported from GnuPG) is used instead of generating one', { skip: skipUnless('gpg') }, async () => {
    const dir = tempDir();
    const gpg = new Gpg(join(dir, 'gnupg'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(gpg.home, { mode: 0o700 });
    await gpg.ok('--passphrase', 'hr-secret', '--quick-gen-key', 'HR Exchange <hr@acme.example>', 'future-default', 'default', 'never');
    const exported = await gpg.ok('--passphrase', 'hr-secret', '--armor', '--export-secret-keys', 'hr@acme.example');
    writeFileSync(join(dir, 'exchange-key.asc'), exported.stdout, { mode: 0o600 });
    const fpr = (await gpg.ok('--with-colons', '--fingerprint', 'hr@acme.example')).stdout.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9];

    process.env.FG_TEST_PGP_PASS2 = 'hr-secret';
    try {
      // Relative to the config file, as every path in it.
      const configFile = join(dir, 'fluxgate.yaml');
      const dataDir = join(dir, 'var');
      const key = await storeFor(dataDir, { privateKeyFile: 'exchange-key.asc', passphraseEnv: 'FG_TEST_PGP_PASS2' }, configFile).load();
      assert.equal(key.fingerprint, fpr);
      assert.equal(key.source, 'configured');
      assert.equal(existsSync(join(dataDir, 'pgp', PRIVATE_KEY_FILE)), false, 'no key generated');
      assert.equal(readFileSync(join(dataDir, 'pgp', PUBLIC_KEY_FILE), 'utf8'), key.armoredPublicKey);
    } finally {
      delete process.env.FG_TEST_PGP_PASS2;
      await gpg.close();
    }
  });

  test('a missing or unreadable configured key fails with FG_PGP naming the file', async () => {
    const dir = tempDir();
    await assert.rejects(storeFor(join(dir, 'var'), { privateKeyFile: join(dir, 'nope.asc') }).load(),
      (err) => isFluxgateError(err, 'FG_PGP') && err.message.includes('nope.asc') && /does not exist/.test(err.message));
    writeFileSync(join(dir, 'junk.asc'), 'not a key');
    await assert.rejects(storeFor(join(dir, 'var'), { privateKeyFile: join(dir, 'junk.asc') }).load(),
      (err) => isFluxgateError(err, 'FG_PGP') && err.message.includes('junk.asc'));
  });
});

describe('pgp names', () => {
  test('.pgp and .gpg (any case) mark encrypted uploads; the suffix is stripped for naming checks', () => {
    assert.equal(isEncryptedName('ndmat_acme_acme_sal_hr_v6_261120090500.csv.pgp'), true);
    assert.equal(isEncryptedName('x.csv.GPG'), true);
    assert.equal(isEncryptedName('x.csv'), false);
    assert.equal(isEncryptedName('.pgp'), false);
    assert.equal(stripEncryptedSuffix('ndmat_acme_acme_sal_hr_v6_261120090500.csv.gpg'), 'ndmat_acme_acme_sal_hr_v6_261120090500.csv');
    assert.equal(stripEncryptedSuffix('x.csv'), 'x.csv');
  });

  test('user ids are split into name and e-mail', () => {
    assert.deepEqual(parseUserId('fluxgate <fluxgate@localhost>'), { name: 'fluxgate', email: 'fluxgate@localhost' });
    assert.deepEqual(parseUserId('<a@b.c>'), { email: 'a@b.c' });
    assert.deepEqual(parseUserId('just a name'), { name: 'just a name' });
  });
});
