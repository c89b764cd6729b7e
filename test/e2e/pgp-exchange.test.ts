import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import { openDatabase } from '../../core/store/database';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { Gpg } from '../helpers/pgp-gpg';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { accountServiceOn } from '../helpers/accounts';

const SIR_NAME = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
const SIR = join(REPO_ROOT, 'test/fixtures/exchange', SIR_NAME);

interface FileRow { id: string; name: string; state: string; outcome: string | null; location: string; report_path: string | null; receipt_path: string | null }

/**
 * The end-to-end story, with the real server, OpenSSH's sftp and GnuPG as the HRIS
 * would use them: fetch the server key from out/sig, encrypt, upload, get a signed report.
 */
describe('pgp end to end: encrypted uploads and signed reports', { skip: skipUnless('sftp', 'ssh-keygen', 'gpg') }, () => {
  const server = new TestServer({ config: { pgp: { keyType: 'curve25519' } } });
  const paths = new DataPaths(server.dataDir);
  const local = join(server.dir, 'client');
  const gpg = new Gpg(join(server.dir, 'client-gnupg'));
  let key: TestKey;
  let fingerprint: string;

  before(async () => {
    mkdirSync(local);
    mkdirSync(gpg.home, { mode: 0o700 });
    key = makeKey('ed25519');
    // Created before the server ever ran: the key reaches out/sig/ when the server starts.
    const loaded = loadConfig({ configFile: server.configFile });
    const db = openDatabase(paths.database);
    const accounts = accountServiceOn(db, paths, loaded.config);
    await accounts.create({ id: 'acme', partner: 'acme', publicKey: key.publicKey });
    await accounts.create({ id: 'nectar', profile: 'dropbox', publicKey: key.publicKey });
    db.close();
    await server.start();
    // A first start generates the key in the background, then publishes it.
    await server.waitForLog((l) => l.msg === 'PGP public key published to exchange accounts');
  });
  after(async () => {
    await server.stop();
    await gpg.close();
    await server.cleanup();
  });

  async function sftp(...commands: string[]): Promise<void> {
    await sftpAs('acme', ...commands);
  }

  async function sftpAs(user: string, ...commands: string[]): Promise<void> {
    const r = await sftpBatch(server.port, user, key.privatePath, commands);
    assert.equal(r.code, 0, `sftp ${commands.join(' / ')} failed:\n${r.stderr}`);
  }

  /** Waits until the journal says the upload named `name` is finished, and returns its row. */
  async function finished(name: string): Promise<FileRow> {
    const db = new BetterSqlite3(paths.database, { readonly: true });
    try {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const row = db.prepare('SELECT * FROM files WHERE name = ? ORDER BY received_at DESC').get(name) as FileRow | undefined;
        if (row && ['processed', 'rejected', 'dead'].includes(row.state)) return row;
      }
    } finally {
      db.close();
    }
    throw new Error(`${name} was not processed in time`);
  }

  async function encryptedCopy(source: string, name: string, extra: string[] = []): Promise<string> {
    const target = join(local, name);
    await gpg.encrypt(fingerprint, source, target, extra);
    return target;
  }

  test('the server public key is published in out/sig and is what export-public prints', async () => {
    await sftp(`get out/sig/fluxgate-public-key.asc ${local}/server.asc`);
    const exported = await server.cli('pgp', 'export-public');
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(readFileSync(join(local, 'server.asc'), 'utf8'), exported.stdout);
    await gpg.importKey(join(local, 'server.asc'));
    fingerprint = await gpg.fingerprintOf('fluxgate@localhost');
    assert.match(fingerprint, /^[0-9A-F]{40}$/);
  });

  test('a gpg-encrypted upload is decrypted, processed, and answered with a report gpg verifies', async () => {
    const upload = await encryptedCopy(SIR, `${SIR_NAME}.pgp`);
    await sftp(`put ${upload} in/sir/${SIR_NAME}.pgp`);
    const row = await finished(`${SIR_NAME}.pgp`);
    assert.equal(row.state, 'processed', row.outcome ?? '');
    assert.equal((JSON.parse(row.outcome!) as { counts: { created: number } }).counts.created, 7);

    // The archive keeps the upload as received (encrypted); the plaintext was only in the work dir.
    assert.deepEqual(readFileSync(row.location), readFileSync(upload));
    // The journal says processed just before the attempt's work dir is removed: give it a moment.
    const workDir = join(paths.work('acme'), row.id);
    for (const until = Date.now() + 10_000; existsSync(workDir) && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(workDir), false, 'work files removed');
    const reportName = SIR_NAME.replace(/^ndmat_/, 'cdmat_');
    const plainLeft = walk(paths.accountRoot('acme')).filter((f) => f.endsWith(SIR_NAME));
    assert.deepEqual(plainLeft, [], 'no plaintext copy in the client-visible tree');

    await sftp(`get out/sir/${reportName} ${local}/`, `get out/sir/${reportName}.sig ${local}/`);
    const report = readFileSync(join(local, reportName), 'utf8');
    assert.match(report, /result;processed/);
    assert.match(report, /created;7/);
    const verified = await gpg.verify(join(local, `${reportName}.sig`), join(local, reportName));
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stderr, /Good signature from "fluxgate <fluxgate@localhost>"/);

    // The proof of receipt is signed too.
    const receipt = row.receipt_path!.slice(paths.accountRoot('acme').length + 1);
    await sftp(`get ${receipt} ${local}/receipt.xml`, `get ${receipt}.sig ${local}/receipt.xml.sig`);
    const receiptCheck = await gpg.verify(join(local, 'receipt.xml.sig'), join(local, 'receipt.xml'));
    assert.equal(receiptCheck.code, 0, receiptCheck.stderr);

    // A tampered report no longer verifies.
    writeFileSync(join(local, reportName), report.replace('created;7', 'created;8'));
    assert.notEqual((await gpg.verify(join(local, `${reportName}.sig`), join(local, reportName))).code, 0);
  });

  test('an armored upload named .gpg works as well', async () => {
    const name = SIR_NAME.replace('090000', '090100');
    const upload = await encryptedCopy(SIR, `${name}.gpg`, ['--armor']);
    await sftp(`put ${upload} in/sir/${name}.gpg`);
    const row = await finished(`${name}.gpg`);
    assert.equal(row.state, 'processed', row.outcome ?? '');
  });

  test('a doubly suffixed upload (.csv.pgp.pgp) is rejected by name, and its report is named after the plain name', async () => {
    const name = SIR_NAME.replace('090000', '090150');
    const upload = await encryptedCopy(SIR, `${name}.pgp.pgp`);
    await sftp(`put ${upload} in/sir/${name}.pgp.pgp`);
    const row = await finished(`${name}.pgp.pgp`);
    assert.equal(row.state, 'rejected');
    const outcome = JSON.parse(row.outcome!) as { code: string; summary: string };
    assert.equal(outcome.code, 'FG_NAME_CONVENTION');
    assert.match(outcome.summary, /ends with 2 encryption suffixes \("\.pgp\.pgp"\): an encrypted file takes exactly one \.pgp or \.gpg/);
    const reportName = name.replace(/^ndmat_/, 'cdmat_');
    assert.ok(row.report_path?.endsWith(`/out/sir/${reportName}`), String(row.report_path));
    await sftp(`get out/sir/${reportName} ${local}/double-${reportName}`);
    assert.match(readFileSync(join(local, `double-${reportName}`), 'utf8'), /FG_NAME_CONVENTION/);
    assert.equal(existsSync(join(paths.accountRoot('acme'), 'out/sir', `${reportName.replace(/\.csv$/, '')}.csv.csv`)), false);
  });

  test('an upload that is not a PGP message for our key is rejected with FG_DECRYPT, kept and reported', async () => {
    const name = SIR_NAME.replace('090000', '090200');
    writeFileSync(join(local, `${name}.pgp`), readFileSync(SIR)); // plain CSV under a .pgp name
    await sftp(`put ${local}/${name}.pgp in/sir/${name}.pgp`);
    const row = await finished(`${name}.pgp`);
    assert.equal(row.state, 'rejected');
    assert.equal((JSON.parse(row.outcome!) as { code: string }).code, 'FG_DECRYPT');
    assert.ok(row.location.startsWith(paths.quarantine('acme', 'sir')), `quarantined: ${row.location}`);
    assert.deepEqual(readFileSync(row.location), readFileSync(SIR), 'kept as uploaded');
    const reportName = name.replace(/^ndmat_/, 'cdmat_');
    await sftp(`get out/sir/${reportName} ${local}/`);
    const report = readFileSync(join(local, reportName), 'utf8');
    assert.match(report, /result;rejected/);
    assert.match(report, /FG_DECRYPT/);
  });

  test('an account that requires encryption rejects a plain upload with FG_ENCRYPTION_REQUIRED', async () => {
    const on = await server.cli('pgp', 'require-encryption', 'acme', 'on');
    assert.equal(on.code, 0, on.stderr);
    const name = SIR_NAME.replace('090000', '090300');
    await sftp(`put ${SIR} in/sir/${name}`);
    const row = await finished(name);
    assert.equal(row.state, 'rejected');
    const outcome = JSON.parse(row.outcome!) as { code: string; summary: string };
    assert.equal(outcome.code, 'FG_ENCRYPTION_REQUIRED');
    assert.ok(outcome.summary.startsWith(`${name}: this account only accepts PGP-encrypted uploads`), outcome.summary);
    assert.ok(outcome.summary.endsWith(`upload it as ${name}.pgp`), 'says what to upload instead');
    const reportName = name.replace(/^ndmat_/, 'cdmat_');
    await sftp(`get out/sir/${reportName} ${local}/`);
    assert.match(readFileSync(join(local, reportName), 'utf8'), /FG_ENCRYPTION_REQUIRED/);

    // Encrypted uploads are still accepted.
    const encName = SIR_NAME.replace('090000', '090400');
    const upload = await encryptedCopy(SIR, `${encName}.pgp`);
    await sftp(`put ${upload} in/sir/${encName}.pgp`);
    assert.equal((await finished(`${encName}.pgp`)).state, 'processed');
  });

  test('an account created while the server runs gets the public key at once', async () => {
    const db = openDatabase(paths.database);
    try {
      await accountServiceOn(db, paths, loadConfig({ configFile: server.configFile }).config)
        .create({ id: 'globex', partner: 'globex', publicKey: key.publicKey });
    } finally {
      db.close();
    }
    assert.equal(readFileSync(join(paths.accountRoot('globex'), 'out/sig/fluxgate-public-key.asc'), 'utf8'),
      readFileSync(join(local, 'server.asc'), 'utf8'));
  });

  test('a drop-box upload encrypted with the exported key is decrypted and applied', async () => {
    // Drop-box clients cannot read anything back: they get the key from the operator.
    const upload = await encryptedCopy(join(REPO_ROOT, 'test/fixtures/dropbox/employees.csv'), 'employees.csv.pgp');
    await sftpAs('nectar', `put ${upload} employees.csv.pgp`);
    const row = await finished('employees.csv.pgp');
    assert.equal(row.state, 'processed', row.outcome ?? '');
    assert.equal((JSON.parse(row.outcome!) as { counts: { created: number } }).counts.created, 40);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

describe('pgp misconfiguration', () => {
  test('a server whose configured key is missing does not start, and says why (FG_PGP)', async () => {
    const server = new TestServer({ config: { pgp: { privateKeyFile: 'keys/missing.asc' } } });
    try {
      await assert.rejects(server.start(), /server exited/);
      const fatal = server.logs.find((l) => l.msg === 'start-up failed');
      assert.ok(fatal, 'a start-up failure is logged');
      const err = fatal.err as { code?: string; message?: string };
      assert.equal(err.code, 'FG_PGP');
      assert.match(err.message ?? '', /keys\/missing\.asc does not exist/);
    } finally {
      await server.cleanup();
    }
  });
});
