import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAccountTree } from '../../core/accounts/account-tree';
import { loadConfig } from '../../core/config';
import { compose } from '../../core/composition';
import { silentLogger } from '../../core/logging/logger';
import { PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME } from '../../core/pgp/names';
import { publishStoredPublicKey } from '../../core/pgp/publish';
import { DataPaths } from '../../core/config/paths';
import { openDatabase } from '../../core/store/database';
import { SqliteAccountRows } from '../../core/store/accounts-repository';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { Gpg } from '../helpers/pgp-gpg';
import { skipUnless } from '../helpers/tools';

const SAL = join(REPO_ROOT, 'test/fixtures/exchange/ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');

describe('pgp CLI, publishing and output signing', { skip: skipUnless('gpg') }, () => {
  // Not started: only its config file, data dir and `cli()` are used.
  const server = new TestServer({ config: { pgp: { keyType: 'curve25519' } } });
  const paths = new DataPaths(server.dataDir);
  const gpg = new Gpg(join(server.dir, 'client-gnupg'));
  let fingerprint: string;

  before(() => {
    mkdirSync(gpg.home, { mode: 0o700 });
    const db = openDatabase(paths.database);
    const repo = new SqliteAccountRows(db);
    repo.insert({ id: 'acme', profile: 'exchange', partner: 'acme', allowIps: [], options: {} });
    repo.insert({ id: 'nectar', profile: 'dropbox', partner: null, allowIps: [], options: {} });
    db.close();
    createAccountTree(paths.accountRoot('acme'), 'exchange');
    createAccountTree(paths.accountRoot('nectar'), 'dropbox');
  });
  after(async () => {
    await gpg.close();
    await server.cleanup();
  });

  test('export-public prints a key gpg imports, with the fingerprint `pgp info` shows', async () => {
    const exported = await server.cli('pgp', 'export-public');
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    const info = await server.cli('pgp', 'info', '--json');
    assert.equal(info.code, 0, info.stderr);
    fingerprint = (JSON.parse(info.stdout) as { fingerprint: string }).fingerprint;
    writeFileSync(join(server.dir, 'server.asc'), exported.stdout);
    await gpg.importKey(join(server.dir, 'server.asc'));
    const listed = await gpg.ok('--with-colons', '--fingerprint', 'fluxgate@localhost');
    assert.ok(listed.stdout.includes(`fpr:::::::::${fingerprint}:`), listed.stdout);
    // Same key on the next call: it was generated once and kept.
    assert.equal((await server.cli('pgp', 'export-public')).stdout, exported.stdout);
  });

  test('publish writes the key to out/sig of exchange accounts only', async () => {
    const r = await server.cli('pgp', 'publish');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /written=1 unchanged=0 skipped=1/);
    const published = join(paths.accountRoot('acme'), PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME);
    assert.equal(readFileSync(published, 'utf8'), (await server.cli('pgp', 'export-public')).stdout);
    assert.equal(statSync(published).mode & 0o777, 0o640);
    assert.equal(existsSync(join(paths.accountRoot('nectar'), 'out')), false);
    assert.match((await server.cli('pgp', 'publish')).stdout, /written=0 unchanged=1 skipped=1/);
  });

  test('require-encryption sets the account option, and refuses unknown accounts', async () => {
    const on = await server.cli('pgp', 'require-encryption', 'acme', 'on');
    assert.equal(on.code, 0, on.stderr);
    const db = openDatabase(paths.database);
    try {
      assert.equal(new SqliteAccountRows(db).get('acme')!.options.requireEncryption, true);
      assert.equal((await server.cli('pgp', 'require-encryption', 'acme', 'off')).code, 0);
      assert.equal(new SqliteAccountRows(db).get('acme')!.options.requireEncryption, false);
    } finally {
      db.close();
    }
    const unknown = await server.cli('pgp', 'require-encryption', 'ghost', 'on');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /FG_ACCOUNT_NOT_FOUND/);
    const bad = await server.cli('pgp', 'require-encryption', 'acme', 'maybe');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"maybe" is not on or off/);
    assert.match(bad.stderr, /Usage: fluxgate pgp require-encryption/);
  });

  test('decrypt turns a gpg-encrypted file back into the original, and names FG_DECRYPT on garbage', async () => {
    await gpg.encrypt(fingerprint, SAL, join(server.dir, 'sal.csv.gpg'));
    const out = join(server.dir, 'sal.csv');
    const r = await server.cli('pgp', 'decrypt', join(server.dir, 'sal.csv.gpg'), '-o', out);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(out), readFileSync(SAL));
    writeFileSync(join(server.dir, 'junk.pgp'), 'junk');
    const junk = await server.cli('pgp', 'decrypt', join(server.dir, 'junk.pgp'), '-o', join(server.dir, 'junk.csv'));
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /FG_DECRYPT/);
  });

  test('decrypt of a missing file, or of a directory, is a coded one-line error with exit code 1', async () => {
    const missing = join(server.dir, 'quarantine-copy.csv.pgp');
    const r = await server.cli('pgp', 'decrypt', missing, '-o', join(server.dir, 'missing.csv'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `fluxgate: ${missing} does not exist: give the path of a PGP message (e.g. a quarantined upload) [FG_NO_SUCH_FILE]\n`);
    const dir = await server.cli('pgp', 'decrypt', server.dir, '-o', join(server.dir, 'dir.csv'));
    assert.equal(dir.code, 1);
    assert.equal(dir.stderr, `fluxgate: ${server.dir} is not a file: give the path of a PGP message [FG_NO_SUCH_FILE]\n`);
    assert.equal(existsSync(join(server.dir, 'missing.csv')), false);
    const unwritable = await server.cli('pgp', 'export-public', '-o', join(server.dir, 'no', 'such', 'dir', 'key.asc'));
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.stderr, /^fluxgate: cannot write .*key\.asc: ENOENT: no such file or directory.* \[FG_PGP\]\n$/);
  });

  test('the composed server publishes at start and signs outputs that gpg verifies', async () => {
    const published = join(paths.accountRoot('acme'), PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME);
    writeFileSync(published, 'stale');
    const composed = await compose({ loaded: loadConfig({ configFile: server.configFile }), logger: silentLogger() });
    try {
      const pgpService = composed.services.find((s) => s.name === 'pgp');
      assert.ok(pgpService, 'the pgp service is one of the services');
      await pgpService.start();
      // Published in the background (thousands of accounts must not hold up the start): started() returns that work.
      await pgpService.started?.();
      assert.match(readFileSync(published, 'utf8'), /BEGIN PGP PUBLIC KEY BLOCK/);

      const report = join(paths.accountRoot('acme'), 'out/sal/cdmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
      writeFileSync(report, '\uFEFFline;severity;code;message\r\n');
      assert.ok(composed.pgp.signer, 'reports are signed by default');
      await composed.pgp.signer.sign(report);
      const verified = await gpg.verify(`${report}.sig`, report);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stderr, /Good signature/);
    } finally {
      await composed.close();
    }
  });

  test('a newly created account gets the stored public key without loading the key', () => {
    const root = paths.accountRoot('newco');
    createAccountTree(root, 'exchange');
    assert.equal(publishStoredPublicKey(paths, { id: 'newco', profile: 'exchange' }, 0o640), 'written');
    assert.equal(readFileSync(join(root, PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME), 'utf8'),
      readFileSync(join(paths.accountRoot('acme'), PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME), 'utf8'));
    assert.equal(publishStoredPublicKey(paths, { id: 'drop', profile: 'dropbox' }, 0o640), 'skipped');
  });

  test('signing can be switched off: the engine gets no OutputSigner', async () => {
    const loaded = loadConfig({ configFile: server.configFile });
    loaded.config.pgp.signReports = false;
    const composed = await compose({ loaded, logger: silentLogger() });
    try {
      assert.equal(composed.pgp.signer, undefined);
    } finally {
      await composed.close();
    }
  });
});
