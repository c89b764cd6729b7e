import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
const sirName = (account: string, stamp: string) => `ndmat_${account}_${account}_sir_hrmanager_v6_${stamp}.csv`;

/**
 * The account's "encrypted uploads only" requirement is the engine's, not the workflow's: with
 * a sir workflow that has no decrypt step, a plain upload of such an account is still refused,
 * and an encrypted upload is not handed to the handler as if it were plain. Real server,
 * OpenSSH sftp uploads, files encrypted with GnuPG.
 */
describe('encryption requirement with a workflow that has no decrypt step', { skip: skipUnless('sftp', 'ssh-keygen', 'gpg') }, () => {
  const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-nodecrypt-'));
  let server: TestServer;
  let probe: JournalProbe;
  let paths: DataPaths;
  let gpg: Gpg;
  let local: string;
  let fingerprint: string;
  const keys: Record<string, TestKey> = {};

  before(async () => {
    cpSync(join(REPO_ROOT, 'workflows'), workflows, { recursive: true });
    const sir = readFileSync(join(workflows, 'sir.yaml'), 'utf8');
    assert.match(sir, /\n {2}- decrypt\n/);
    writeFileSync(join(workflows, 'sir.yaml'), sir.replace('\n  - decrypt\n', '\n'));
    server = new TestServer({ config: { workflowsDir: workflows, pgp: { keyType: 'curve25519' } } });
    paths = new DataPaths(server.dataDir);
    keys.acme = await createAccount(server, 'acme');
    keys.globex = await createAccount(server, 'globex');
    for (const id of ['acme', 'globex']) mkdirSync(join(paths.accountRoot(id), 'in', 'echo'));
    await server.start();
    await server.waitForLog((l) => l.msg === 'PGP public key published to exchange accounts');
    probe = new JournalProbe(server);
    const on = await server.cli('pgp', 'require-encryption', 'acme', 'on');
    assert.equal(on.code, 0, on.stderr);

    local = join(server.dir, 'client');
    mkdirSync(local);
    gpg = new Gpg(join(server.dir, 'client-gnupg'));
    mkdirSync(gpg.home, { mode: 0o700 });
    await put('acme', ['get out/sig/fluxgate-public-key.asc ' + join(local, 'server.asc')]);
    await gpg.importKey(join(local, 'server.asc'));
    fingerprint = await gpg.fingerprintOf('fluxgate@localhost');
  });
  after(async () => {
    await gpg?.close();
    await server?.cleanup();
  });

  async function put(account: string, commands: string[]): Promise<void> {
    const r = await sftpBatch(server.port, account, keys[account].privatePath, commands);
    assert.equal(r.code, 0, `sftp ${commands.join(' / ')} failed:\n${r.stderr}`);
  }

  /** Copies the sir fixture for `account` under `name` (plain, or encrypted with gpg), uploads it, waits for the outcome. */
  async function upload(account: string, dir: string, name: string, how: 'plain' | 'encrypted', source = SIR): Promise<JournalFile> {
    const content = readFileSync(source, 'utf8').replaceAll('ndmat_acme_acme', `ndmat_${account}_${account}`);
    const plain = join(local, `plain-${name}`);
    writeFileSync(plain, content);
    const file = join(local, name);
    if (how === 'plain') writeFileSync(file, content);
    else await gpg.encrypt(fingerprint, plain, file);
    await put(account, [`put ${file} ${dir}/${name}`]);
    return probe.finished(name, 30_000, account);
  }

  async function organizations(account: string): Promise<unknown[]> {
    const r = await server.cli('directory', 'organizations', '--account', account, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as unknown[];
  }

  test('workflows check warns about the workflow without decrypt and says what it means for accounts that require encryption', async () => {
    const r = await server.cli('workflows', 'check', workflows);
    assert.equal(r.code, 0, r.stdout);
    const warning = r.stdout.split('\n').find((l) => l.startsWith('warn'));
    assert.ok(warning, r.stdout);
    assert.match(warning, /sir\.yaml:\d+:\d+ steps: no decrypt step/);
    assert.match(warning, /require-encryption/);
    assert.match(warning, /FG_ENCRYPTION_REQUIRED/);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('warn')).length, 1, 'the shipped workflows all decrypt');
    assert.match(r.stdout, /1 warning\(s\)/);
  });

  test('a plain upload of an account that requires encryption is rejected, never handled', async () => {
    const name = sirName('acme', '261120090000');
    const f = await upload('acme', 'in/sir', name, 'plain');
    assert.equal(f.state, 'rejected', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.code, 'FG_ENCRYPTION_REQUIRED');
    assert.equal((await probe.events(f.id)).some((e) => e.type === 'handled'), false, 'the handler never ran');
    assert.deepEqual(await organizations('acme'), []);
    assert.ok(f.location.startsWith(paths.quarantine('acme', 'sir')), f.location);
    const report = readFileSync(join(paths.accountRoot('acme'), 'out', 'sir', name.replace(/^ndmat_/, 'cdmat_')), 'utf8');
    assert.match(report, /FG_ENCRYPTION_REQUIRED/);
  });

  test('an encrypted .csv.gpg is dead at once with FG_WORKFLOW_INVALID naming the missing decrypt step', async () => {
    const name = `${sirName('acme', '261120090100')}.gpg`;
    const f = await upload('acme', 'in/sir', name, 'encrypted');
    assert.equal(f.state, 'dead', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.code, 'FG_WORKFLOW_INVALID');
    assert.match(f.outcome?.summary ?? '', /PGP-encrypted.*workflow "sir" \(sir\.yaml\).*no decrypt step \(needed before "handler"\).*"- decrypt"/);
    assert.equal(f.attempts, 1, 'a configuration error is not retried');
    assert.equal((await probe.events(f.id)).some((e) => e.type === 'handled'), false);
    assert.ok(f.location.startsWith(paths.quarantine('acme', 'sir')), f.location);
    const report = readFileSync(join(paths.accountRoot('acme'), 'out', 'sir', name.replace(/^ndmat_/, 'cdmat_').replace(/\.gpg$/, '')), 'utf8');
    assert.match(report, /FG_WORKFLOW_INVALID/);
    assert.doesNotMatch(report, /FG_MISSING_COLUMN/);
  });

  test('encrypted content under a plain name is recognised by its OpenPGP header', async () => {
    for (const account of ['acme', 'globex']) {
      const name = sirName(account, '261120090200');
      const f = await upload(account, 'in/sir', name, 'encrypted');
      assert.equal(f.state, 'dead', `${account}: ${JSON.stringify(f.outcome)}`);
      assert.equal(f.outcome?.code, 'FG_WORKFLOW_INVALID');
      assert.match(f.outcome?.summary ?? '', /no decrypt step/);
    }
  });

  test('an account that does not require encryption still gets its plain files processed', async () => {
    const f = await upload('globex', 'in/sir', sirName('globex', '261120090300'), 'plain');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal((await organizations('globex')).length, 7);
  });

  test('with a decrypt step, encrypted content under a plain name is decrypted, and counts as encrypted', async () => {
    const echo = join(local, 'echo.txt');
    writeFileSync(echo, 'one\ntwo\nthree\n');
    for (const account of ['acme', 'globex']) {
      const name = `ndmat_${account}_${account}_echo_261120090400.txt`;
      const f = await upload(account, 'in/echo', name, 'encrypted', echo);
      assert.equal(f.state, 'processed', `${account}: ${JSON.stringify(f.outcome)}`);
      assert.equal(f.outcome?.summary, '3 line(s) echoed');
      assert.ok((await probe.events(f.id)).some((e) => e.type === 'decrypted'), 'decrypted');
    }
  });
});
