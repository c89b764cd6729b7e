import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { isPgpMessageFile } from '../../core/pgp/detect';

/** What the engine takes for an encrypted upload whatever its name (real files, real openpgp messages). */
describe('recognising encrypted OpenPGP messages by their content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-pgpdetect-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Uint8Array) => { writeFileSync(join(dir, name), content); return join(dir, name); };

  test('public-key and password-encrypted messages, binary and armored, are recognised', async () => {
    const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 't' }], format: 'object' });
    const message = await openpgp.createMessage({ text: 'a;b\r\n' });
    const binary = await openpgp.encrypt({ message, encryptionKeys: publicKey, format: 'binary' });
    const armored = await openpgp.encrypt({ message, encryptionKeys: publicKey });
    const password = await openpgp.encrypt({ message, passwords: ['secret'], format: 'binary' });
    assert.equal(await isPgpMessageFile(file('pk.bin', binary)), true);
    assert.equal(await isPgpMessageFile(file('pk.asc', `\r\n${armored}`)), true);
    assert.equal(await isPgpMessageFile(file('pw.bin', password)), true);
  });

  test('text, spreadsheets, archives and empty or missing files are not', async () => {
    // "É" is 0xC3 in UTF-8: the header byte of a new-format symmetric-key session key packet.
    assert.equal(await isPgpMessageFile(file('fr.csv', 'État;Libellé\r\nA;B\r\n')), false);
    assert.equal(await isPgpMessageFile(file('bom.csv', '\uFEFFcode;name\r\n')), false);
    assert.equal(await isPgpMessageFile(file('ru.csv', 'Фамилия;Имя\r\n')), false);
    assert.equal(await isPgpMessageFile(file('x.zip', Buffer.from('504b0304140000000800', 'hex'))), false);
    assert.equal(await isPgpMessageFile(file('key.asc', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n')), false);
    assert.equal(await isPgpMessageFile(file('empty.csv', '')), false);
    assert.equal(await isPgpMessageFile(join(dir, 'missing.csv')), false);
  });
});
