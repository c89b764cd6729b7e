import { basename, join } from 'node:path';
import { z } from 'zod';
import { isFluxgateError } from '../../errors';
import { FileRejection } from '../../plugin-api/outcome';
import { decryptFile } from '../../pgp/decrypt';
import { isPgpMessageFile } from '../../pgp/detect';
import { isEncryptedName, stripEncryptedSuffix } from '../../pgp/names';
import { defineStep } from '../step';

/** FG_ENCRYPTION_REQUIRED, as the decrypt step and the engine (workflows without it) say it. */
export function encryptionRequired(name: string, by: 'account' | 'workflow' = 'account'): FileRejection {
  const who = by === 'account' ? 'this account only accepts' : 'the workflow of this flux only accepts';
  return new FileRejection('FG_ENCRYPTION_REQUIRED',
    `${name}: ${who} PGP-encrypted uploads; encrypt the file with the key published in out/sig/ and upload it as ${name}.pgp`);
}

/**
 * Encrypted uploads (a `.pgp`/`.gpg` name, or PGP content under any name): decrypts the file
 * with the server key into the file's work directory (never client-visible) and points later
 * steps and the handler at the plaintext. A plain upload passes through, unless the account
 * requires encryption (or the workflow does, with `required: true`): then it is rejected with
 * FG_ENCRYPTION_REQUIRED. A file that cannot be decrypted is rejected with FG_DECRYPT (never
 * retried: the content will not change).
 */
export const decryptStep = defineStep<{ required?: boolean }>({
  name: 'decrypt',
  description: 'Decrypt .pgp/.gpg uploads with the server PGP key (FG_DECRYPT); reject plain uploads where encryption is required (FG_ENCRYPTION_REQUIRED)',
  options: z.strictObject({ required: z.boolean().optional() }),
  stage: 'decrypt',
  async run(run, options) {
    const name = run.file.name;
    if (run.encryption === 'decrypted') return; // a second decrypt step in the same workflow
    if (!isEncryptedName(name) && !(await isPgpMessageFile(run.inputPath))) {
      if (run.account.options.requireEncryption) throw encryptionRequired(name);
      if (options.required) throw encryptionRequired(name, 'workflow');
      run.encryption = 'plain';
      return;
    }
    const key = await run.services.pgpKeys.load();
    const output = join(run.workDir, stripEncryptedSuffix(basename(name)));
    try {
      const result = await decryptFile(key.privateKey, run.inputPath, output, {
        maxPlaintextBytes: run.config.pgp.maxPlaintextBytes,
        signal: run.signal,
      });
      run.inputPath = output;
      run.encryption = 'decrypted';
      await run.event('decrypted', { bytes: result.bytes, armored: result.armored, innerFileName: result.innerFileName, key: key.fingerprint });
      run.log.info({ fileId: run.file.id, bytes: result.bytes, armored: result.armored }, 'upload decrypted');
    } catch (err) {
      if (isFluxgateError(err, 'FG_DECRYPT')) throw new FileRejection('FG_DECRYPT', `${name}: ${err.message}`, err.details);
      throw err; // disk full, abort…: transient, the engine retries
    }
  },
});
