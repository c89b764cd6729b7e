import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import type { JournalFile } from '../../core/store/journal-repository';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { Gpg } from '../helpers/pgp-gpg';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

const SIR = join(REPO_ROOT, 'test/fixtures/exchange/ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv');
const sirName = (stamp: string) => `ndmat_acme_acme_sir_hrmanager_v6_${stamp}.csv`;
const echoName = (stamp: string) => `ndmat_acme_acme_echo_${stamp}.txt`;
/** Small enough for every upload here but the one made to exceed it. */
const MAX_PLAINTEXT = 1_000_000;

/**
 * The decrypt workflow step as the engine runs it: files encrypted (well and badly) with GnuPG
 * as an HRIS would, uploaded with OpenSSH's sftp to the real server, followed through the
 * journal, the work directory, the quarantine and the report. The echo flux (the shipped echo
 * workflow: receipt, check-name, decrypt, handler, report, archive) shows what the handler
 * read; the sir workflow is given `decrypt: { required: true }`.
 */
describe('the decrypt step through the engine', { skip: skipUnless('sftp', 'ssh-keygen', 'gpg') }, () => {
  const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-decrypt-'));
  let server: TestServer;
  let paths: DataPaths;
  let probe: JournalProbe;
  let gpg: Gpg;
  let local: string;
  let serverFingerprint: string;
  let key: TestKey;

  before(async () => {
    cpSync(join(REPO_ROOT, 'workflows'), workflows, { recursive: true });
    const sir = readFileSync(join(workflows, 'sir.yaml'), 'utf8');
    assert.match(sir, /\n {2}- decrypt\n/);
    writeFileSync(join(workflows, 'sir.yaml'), sir.replace('\n  - decrypt\n', '\n  - decrypt: { required: true }\n'));
    server = new TestServer({ config: { workflowsDir: workflows, pgp: { keyType: 'curve25519', maxPlaintextBytes: MAX_PLAINTEXT } } });
    paths = new DataPaths(server.dataDir);
    key = await createAccount(server, 'acme');
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'echo'));
    await server.start();
    await server.waitForLog((l) => l.msg === 'PGP public key published to exchange accounts');
    probe = new JournalProbe(server);

    local = join(server.dir, 'client');
    mkdirSync(local);
    gpg = new Gpg(join(server.dir, 'client-gnupg'));
    mkdirSync(gpg.home, { mode: 0o700 });
    await sftp(`get out/sig/fluxgate-public-key.asc ${join(local, 'server.asc')}`);
    await gpg.importKey(join(local, 'server.asc'));
    serverFingerprint = await gpg.fingerprintOf('fluxgate@localhost');
  });
  after(async () => {
    await gpg?.close();
    await server?.cleanup();
  });

  async function sftp(...commands: string[]): Promise<void> {
    const r = await sftpBatch(server.port, 'acme', key.privatePath, commands);
    assert.equal(r.code, 0, `sftp ${commands.join(' / ')} failed:\n${r.stderr}`);
  }

  /** Writes `content` as `plain-<name>` and encrypts it for the server into `<name>` (gpg options in `extra`). */
  async function encrypted(name: string, content: string, extra: string[] = []): Promise<string> {
    const plain = join(local, `plain-${name}`);
    writeFileSync(plain, content);
    await gpg.encrypt(serverFingerprint, plain, join(local, name), extra);
    return join(local, name);
  }

  async function upload(file: string, dir: string, name: string): Promise<JournalFile> {
    await sftp(`put ${file} ${dir}/${name}`);
    return probe.finished(name, 30_000, 'acme');
  }

  const types = async (f: JournalFile) => (await probe.events(f.id)).map((e) => e.type);
  const steps = async (f: JournalFile) => (await probe.events(f.id)).filter((e) => e.type === 'step').map((e) => e.detail.step);
  const decryptedEvent = async (f: JournalFile) => (await probe.events(f.id)).find((e) => e.type === 'decrypted')?.detail;

  /** Waits until the attempt's work directory (plaintext included) is gone: the journal says finished just before. */
  async function workDirGone(f: JournalFile): Promise<boolean> {
    const dir = join(paths.work('acme'), f.id);
    for (const until = Date.now() + 10_000; existsSync(dir) && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    return !existsSync(dir);
  }

  async function organizations(): Promise<unknown[]> {
    const r = await server.cli('directory', 'organizations', '--account', 'acme', '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as unknown[];
  }

  test('a .pgp upload is decrypted into the work dir, out of the client tree, and the handler reads the plaintext', async () => {
    const plainName = echoName('261120090000');
    const name = `${plainName}.pgp`;
    const content = '#sleep 4000\none\ntwo\nthree\n';
    const file = await encrypted(name, content);
    await sftp(`put ${file} in/echo/${name}`);

    // The handler sleeps: meanwhile the plaintext is in the file's work dir, under the plain name.
    let id: string | undefined;
    let plaintextPath = '';
    for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 25))) {
      id ??= (await probe.byName(name, 'acme'))[0]?.id;
      if (id && existsSync(plaintextPath = join(paths.work('acme'), id, plainName))) break;
    }
    assert.ok(id && existsSync(plaintextPath), `no plaintext at ${plaintextPath}`);
    assert.equal(readFileSync(plaintextPath, 'utf8'), content);
    assert.equal(statSync(plaintextPath).mode & 0o077, 0, 'readable by the server only');
    assert.deepEqual(walk(paths.accountRoot('acme')).filter((p) => p.endsWith(plainName)), [], 'no plaintext where the client can see it');

    const f = await probe.finished(name, 30_000, 'acme');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.summary, '3 line(s) echoed', 'the handler read the plaintext, not the ciphertext');
    assert.deepEqual((await steps(f)), ['receipt', 'check-name', 'decrypt', 'handler', 'report', 'archive']);
    const info = JSON.parse((await server.cli('pgp', 'info', '--json')).stdout) as { fingerprint: string };
    assert.equal(info.fingerprint, serverFingerprint);
    assert.deepEqual((await decryptedEvent(f)), { bytes: Buffer.byteLength(content), armored: false, innerFileName: `plain-${name}`, key: serverFingerprint });
    assert.ok((await types(f)).indexOf('decrypted') < (await types(f)).indexOf('handled'), 'decrypted before the handler ran');
    assert.deepEqual(readFileSync(f.location), readFileSync(file), 'archived as uploaded (encrypted)');
    assert.ok(await workDirGone(f), 'the plaintext is removed with the work dir');
    assert.ok(f.reportPath?.endsWith(`/out/echo/${plainName.replace(/^ndmat_/, 'cdmat_').replace(/\.txt$/, '.csv')}`), String(f.reportPath));
  });

  test('an armored message under .gpg is decrypted too, and the journal says it was armored', async () => {
    const name = `${echoName('261120090100')}.gpg`;
    const f = await upload(await encrypted(name, 'a\nb\n', ['--armor']), 'in/echo', name);
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.summary, '2 line(s) echoed');
    assert.equal((await decryptedEvent(f))?.armored, true);
  });

  test('a plain upload passes the decrypt step untouched when neither the account nor the workflow requires encryption', async () => {
    const name = echoName('261120090200');
    writeFileSync(join(local, name), 'one\ntwo\n');
    const f = await upload(join(local, name), 'in/echo', name);
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.summary, '2 line(s) echoed');
    assert.ok((await steps(f)).includes('decrypt'), 'the decrypt step ran');
    assert.equal((await decryptedEvent(f)), undefined, 'nothing was decrypted');
  });

  test('`decrypt: { required: true }` rejects a plain upload with FG_ENCRYPTION_REQUIRED (the account does not require it), and takes an encrypted one', async () => {
    const check = await server.cli('workflows', 'check', workflows);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^ok +sir +exchange .*→ decrypt →/m, 'the option is valid');
    assert.match(check.stdout, /, 0 problem\(s\)/);

    const name = sirName('261120090300');
    const f = await upload(SIR, 'in/sir', name);
    assert.equal(f.state, 'rejected', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.code, 'FG_ENCRYPTION_REQUIRED');
    assert.ok(f.outcome?.summary?.startsWith(`${name}: the workflow of this flux only accepts PGP-encrypted uploads`), f.outcome?.summary);
    assert.match(f.outcome?.summary ?? '', new RegExp(`upload it as ${name.replace(/\./g, '\\.')}\\.pgp$`));
    assert.equal((await types(f)).includes('handled'), false, 'the handler never ran');
    assert.deepEqual(await organizations(), []);
    assert.ok(f.location.startsWith(paths.quarantine('acme', 'sir')), f.location);
    assert.deepEqual(readFileSync(f.location), readFileSync(SIR), 'quarantined as uploaded');
    assert.match(readFileSync(f.reportPath!, 'utf8'), /FG_ENCRYPTION_REQUIRED/);

    const encName = `${sirName('261120090400')}.pgp`;
    const enc = await upload(await encrypted(encName, readFileSync(SIR, 'utf8')), 'in/sir', encName);
    assert.equal(enc.state, 'processed', JSON.stringify(enc.outcome));
    assert.equal((await organizations()).length, 7);
  });

  test('wrongly encrypted uploads are rejected with FG_DECRYPT naming the file: never handled, kept as uploaded, reported, no plaintext left', async () => {
    await gpg.ok('--passphrase', '', '--quick-gen-key', 'Other <other@hris.example>', 'future-default', 'default', 'never');
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`).join('\n') + '\n';
    const cases: Array<{ what: string; stamp: string; make: (name: string) => Promise<string>; reason: RegExp }> = [
      {
        what: 'encrypted for another key', stamp: '261120090500', reason: /cannot be decrypted with the server's PGP key/,
        make: async (name) => {
          writeFileSync(join(local, `plain-${name}`), 'one\n');
          await gpg.ok('--trust-model', 'always', '-r', 'other@hris.example', '--output', join(local, name), '--encrypt', join(local, `plain-${name}`));
          return join(local, name);
        },
      },
      {
        // Uncompressed, so most of the plaintext streams out before the integrity check at the end fails.
        what: 'tampered with', stamp: '261120090600', reason: /cannot be decrypted with the server's PGP key/,
        make: async (name) => {
          const file = await encrypted(name, lines(20_000), ['--compress-algo', 'none']);
          const bytes = readFileSync(file);
          bytes[bytes.length - 30] ^= 0x01;
          writeFileSync(file, bytes);
          return file;
        },
      },
      {
        what: 'truncated', stamp: '261120090700', reason: /cannot be decrypted with the server's PGP key/,
        make: async (name) => {
          const file = await encrypted(name, lines(2_000));
          writeFileSync(file, readFileSync(file).subarray(0, -100));
          return file;
        },
      },
      {
        // Compresses to a few kB: the guard is on the plaintext, not on the upload.
        what: `larger than pgp.maxPlaintextBytes (${MAX_PLAINTEXT}) once decrypted`, stamp: '261120090800', reason: /larger than pgp\.maxPlaintextBytes|decompressed/i,
        make: (name) => encrypted(name, `${'y'.repeat(99)}\n`.repeat(2 * MAX_PLAINTEXT / 100)),
      },
    ];
    for (const c of cases) {
      const name = `${echoName(c.stamp)}.pgp`;
      const file = await c.make(name);
      const f = await upload(file, 'in/echo', name);
      const why = `${c.what}: ${JSON.stringify(f.outcome)}`;
      assert.equal(f.state, 'rejected', why);
      assert.equal(f.outcome?.code, 'FG_DECRYPT', why);
      assert.ok(f.outcome?.summary?.startsWith(`${name}: `), why);
      assert.match(f.outcome?.summary ?? '', c.reason, why);
      assert.equal(f.attempts, 1, `${c.what}: never retried`);
      assert.equal((await decryptedEvent(f)), undefined, why);
      assert.equal((await types(f)).includes('handled'), false, `${c.what}: the handler never ran`);
      assert.equal(existsSync(join(paths.vault('acme'), 'echo', `${f.id}.json`)), false, `${c.what}: nothing applied`);
      assert.ok(f.location.startsWith(paths.quarantine('acme', 'echo')), `${c.what}: ${f.location}`);
      assert.deepEqual(readFileSync(f.location), readFileSync(file), `${c.what}: kept as uploaded`);
      const report = readFileSync(f.reportPath!, 'utf8');
      assert.match(report, /result;rejected/, c.what);
      assert.match(report, /FG_DECRYPT/, c.what);
      assert.ok(await workDirGone(f), `${c.what}: no plaintext left in the work dir`);
    }
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
