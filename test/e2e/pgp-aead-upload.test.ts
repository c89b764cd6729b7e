import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { DataPaths } from '../../core/config/paths';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

/** The SEIPDv2 packet: tag 18, version 2 (v1 is GnuPG's CFB + SHA-1 integrity check). */
function isSeipdV2(bytes: Uint8Array): Promise<boolean> {
  return openpgp.readMessage({ binaryMessage: bytes }).then((m) =>
    (m.packets as unknown as Array<{ constructor: { tag: number }; version: number }>)
      .some((p) => p.constructor.tag === 18 && p.version === 2));
}

/**
 * AEAD-protected uploads (SEIPDv2). The generated server key does not advertise SEIPDv2
 * (GnuPG has none), so clients only send it to a key that does: here an operator's key made
 * with openpgp.js and configured as pgp.privateKeyFile. The HRIS side is openpgp.js too: it
 * fetches the key from out/sig over sftp and encrypts with its defaults, which follow the key.
 */
describe('AEAD (SEIPDv2) uploads through the engine', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const server = new TestServer({ config: { pgp: { privateKeyFile: 'aead-server-key.asc' } } });
  const paths = new DataPaths(server.dataDir);
  const local = join(server.dir, 'client');
  let probe: JournalProbe;
  let key: TestKey;
  let fingerprint: string;

  before(async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'fluxgate', email: 'fluxgate@localhost' }],
      format: 'object', config: { aeadProtect: true }, // advertise SEIPDv2 in the key's features
    });
    fingerprint = privateKey.getFingerprint().toUpperCase();
    writeFileSync(join(server.dir, 'aead-server-key.asc'), privateKey.armor(), { mode: 0o600 });
    key = await createAccount(server, 'acme');
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'echo'));
    mkdirSync(local);
    await server.start();
    await server.waitForLog((l) => l.msg === 'PGP public key published to exchange accounts');
    probe = new JournalProbe(server);
  });
  after(async () => {
    await server.cleanup();
  });

  async function sftp(...commands: string[]): Promise<void> {
    const r = await sftpBatch(server.port, 'acme', key.privatePath, commands);
    assert.equal(r.code, 0, `sftp ${commands.join(' / ')} failed:\n${r.stderr}`);
  }

  test('an upload encrypted for a key that advertises SEIPDv2 is AEAD-protected, decrypted and processed', async () => {
    await sftp(`get out/sig/fluxgate-public-key.asc ${join(local, 'server.asc')}`);
    const serverKey = await openpgp.readKey({ armoredKey: readFileSync(join(local, 'server.asc'), 'utf8') });
    assert.equal(serverKey.getFingerprint().toUpperCase(), fingerprint, 'the configured key is the one published');

    const plainName = 'ndmat_acme_acme_echo_261120091000.txt';
    const content = 'one\ntwo\nthree\n';
    const message = await openpgp.createMessage({ binary: new TextEncoder().encode(content), filename: plainName });
    const bytes = await openpgp.encrypt({ message, encryptionKeys: serverKey, format: 'binary' });
    assert.ok(await isSeipdV2(bytes), 'the client sent SEIPDv2, as the key asks');
    const name = `${plainName}.pgp`;
    writeFileSync(join(local, name), bytes);
    await sftp(`put ${join(local, name)} in/echo/${name}`);

    const f = await probe.finished(name, 30_000, 'acme');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.summary, '3 line(s) echoed');
    const decrypted = (await probe.events(f.id)).find((e) => e.type === 'decrypted')?.detail;
    assert.deepEqual(decrypted, { bytes: content.length, armored: false, innerFileName: plainName, key: fingerprint });
  });
});
