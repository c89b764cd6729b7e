import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { DataPaths } from '../../core/config';
import { silentLogger } from '../../core/logging/logger';
import { FileRejection } from '../../core/plugin-api/outcome';
import { decryptFile } from '../../core/pgp/decrypt';
import { ServerKeyStore, type ServerKey } from '../../core/pgp/server-key';
import type { AccountOptions } from '../../core/store/accounts-repository';
import { Tokens } from '../../core/tokens';
import { parseWorkflow } from '../../core/workflow/loader';
import type { StepRun } from '../../core/workflow/step';
import { decryptStep } from '../../core/workflow/steps/decrypt';
import { BUILTIN_STEPS } from '../../core/workflow/steps';
import { loadedConfigFor } from '../helpers/pgp-gpg';

const CSV = 'organization_code;name\r\nACME;Acme\r\n';

/**
 * The decrypt step on its own, with the real key store and real files. The StepRun is the
 * part of the engine it talks to, reduced to what the step uses.
 */
describe('decrypt workflow step', () => {
  let dir: string;
  let store: ServerKeyStore;
  let key: ServerKey;
  const loaded = () => loadedConfigFor(join(dir, 'var'), { pgp: { keyType: 'curve25519' } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-pgpstep-'));
    store = new ServerKeyStore(new DataPaths(join(dir, 'var')), loaded(), silentLogger());
    key = await store.load();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function runFor(name: string, content: string | Uint8Array, options: AccountOptions = {}) {
    const upload = join(dir, 'in', name);
    mkdirSync(join(dir, 'in'), { recursive: true });
    writeFileSync(upload, content);
    const workDir = join(dir, 'work', name);
    mkdirSync(workDir, { recursive: true });
    const events: Array<[string, Record<string, unknown> | undefined]> = [];
    const run = {
      file: { id: `id-${name}`, name },
      account: { id: 'acme', profile: 'exchange', options },
      inputPath: upload,
      workDir,
      config: loaded().config,
      log: silentLogger(),
      signal: new AbortController().signal,
      get: <T>(token: symbol): T => { assert.equal(token, Tokens.PgpKeys); return store as T; },
      event: (type: string, detail?: Record<string, unknown>) => { events.push([type, detail]); },
    } as unknown as StepRun;
    return { run, upload, events };
  }

  async function encrypted(text: string, config: openpgp.PartialConfig = {}): Promise<Uint8Array> {
    const message = await openpgp.createMessage({ binary: new TextEncoder().encode(text) });
    return openpgp.encrypt({ message, encryptionKeys: key.publicKey, format: 'binary', config });
  }

  test('a .pgp upload is decrypted into the work dir and later steps read the plaintext', async () => {
    const { run, upload, events } = runFor('ndmat_acme_acme_sir_hr_v6_261120090000.csv.pgp', await encrypted(CSV));
    await decryptStep.run(run, {});
    assert.notEqual(run.inputPath, upload);
    assert.ok(run.inputPath.startsWith(run.workDir), 'plaintext under the work dir');
    assert.equal(run.inputPath, join(run.workDir, 'ndmat_acme_acme_sir_hr_v6_261120090000.csv'));
    assert.equal(readFileSync(run.inputPath, 'utf8'), CSV);
    assert.equal(events[0]?.[0], 'decrypted');
    assert.equal(events[0]?.[1]?.key, key.fingerprint);
  });

  test('an AEAD (SEIPDv2) message decrypts as well', async () => {
    // Only keys advertising SEIPDv2 receive AEAD messages (the server key does not: GnuPG has no SEIPDv2).
    const aeadConfig = { aeadProtect: true };
    const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'aead' }], format: 'object', config: aeadConfig });
    const message = await openpgp.createMessage({ binary: new TextEncoder().encode(CSV) });
    const bytes = await openpgp.encrypt({ message, encryptionKeys: privateKey.toPublic(), format: 'binary', config: aeadConfig });
    const packets = (await openpgp.readMessage({ binaryMessage: bytes })).packets as unknown as Array<{ constructor: { tag: number }; version: number }>;
    assert.ok(packets.some((p) => p.constructor.tag === 18 && p.version === 2), 'the message really is SEIPDv2');
    writeFileSync(join(dir, 'aead.gpg'), bytes);
    await decryptFile(privateKey, join(dir, 'aead.gpg'), join(dir, 'aead-out', 'aead.csv'), { maxPlaintextBytes: 1024 ** 3 });
    assert.equal(readFileSync(join(dir, 'aead-out', 'aead.csv'), 'utf8'), CSV);
  });

  test('an undecryptable upload is a FileRejection with FG_DECRYPT, naming the file', async () => {
    const { run, upload } = runFor('bad.csv.pgp', CSV);
    await assert.rejects(decryptStep.run(run, {}), (err) =>
      err instanceof FileRejection && err.code === 'FG_DECRYPT' && err.message.startsWith('bad.csv.pgp: '));
    assert.equal(run.inputPath, upload, 'later steps still see the upload');
    assert.equal(existsSync(join(run.workDir, 'bad.csv')), false);
  });

  test('a plain upload passes through unless encryption is required by the account or the workflow', async () => {
    const plain = runFor('plain.csv', CSV);
    await decryptStep.run(plain.run, {});
    assert.equal(plain.run.inputPath, plain.upload);
    assert.deepEqual(plain.events, []);

    const byAccount = runFor('plain2.csv', CSV, { requireEncryption: true });
    await assert.rejects(decryptStep.run(byAccount.run, {}), (err) =>
      err instanceof FileRejection && err.code === 'FG_ENCRYPTION_REQUIRED' && /plain2\.csv\.pgp/.test(err.message));

    const byWorkflow = runFor('plain3.csv', CSV);
    await assert.rejects(decryptStep.run(byWorkflow.run, { required: true }), (err) =>
      err instanceof FileRejection && err.code === 'FG_ENCRYPTION_REQUIRED');
  });

  test('workflows accept `decrypt: {required: true}` and refuse unknown options', () => {
    const yaml = (step: string) => `flux: sir\nsteps:\n  - receipt\n  - ${step}\n  - handler\n`;
    const good = parseWorkflow(yaml('decrypt: { required: true }'), 'sir.yaml', BUILTIN_STEPS);
    assert.ok(good.ok, JSON.stringify(good));
    assert.deepEqual(good.workflow.steps.find((s) => s.name === 'decrypt')?.options, { required: true });
    const bad = parseWorkflow(yaml('decrypt: { require: true }'), 'sir.yaml', BUILTIN_STEPS);
    assert.equal(bad.ok, false);
  });

  test('an aborted decryption is not FG_DECRYPT (the engine retries it) and leaves nothing', async () => {
    const big = await encrypted('x;y\r\n'.repeat(500_000));
    writeFileSync(join(dir, 'abort.gpg'), big);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(decryptFile(key.privateKey, join(dir, 'abort.gpg'), join(dir, 'abort-out', 'abort.csv'),
      { maxPlaintextBytes: 1024 ** 3, signal: controller.signal }), (err) => (err as Error).name === 'AbortError');
    assert.equal(existsSync(join(dir, 'abort-out', 'abort.csv')), false);
  });
});
