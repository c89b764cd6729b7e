import { createReadStream, createWriteStream, renameSync, type ReadStream, type WriteStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as openpgp from 'openpgp';
import { FluxgateError } from '../errors';
import { removeWhenClosed, temporaryNameFor } from './files';
import { signatureNameOf } from './names';

/** Files up to this size are signed from memory (native RSA/EdDSA), bigger ones streamed. */
const SIGN_IN_MEMORY_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Writes a detached binary signature of `path` to `<path>.sig` (what `gpg --detach-sign`
 * makes, checked with `gpg --verify <path>.sig <path>`), streaming a big file. The signature
 * appears atomically: a client never downloads half of one. Returns the signature's path.
 */
export async function signFileDetached(privateKey: openpgp.PrivateKey, path: string, mode = 0o640): Promise<string> {
  const target = signatureNameOf(path);
  const tmp = temporaryNameFor(target);
  let output: WriteStream | undefined;
  let source: ReadStream | undefined;
  try {
    // openpgp signs a streamed message with its own BigInt RSA (~155 ms of CPU for RSA 4096
    // here), bytes with Node's crypto (~3 ms): reports and receipts are small, read them whole.
    if ((await stat(path)).size <= SIGN_IN_MEMORY_MAX_BYTES) {
      const message = await openpgp.createMessage({ binary: await readFile(path) });
      const signature = await openpgp.sign({ message, signingKeys: privateKey, detached: true, format: 'binary' });
      await writeFile(tmp, signature, { mode, flag: 'wx' });
    } else {
      source = createReadStream(path);
      const message = await openpgp.createMessage({ binary: Readable.toWeb(source) });
      const signature = await openpgp.sign({ message, signingKeys: privateKey, detached: true, format: 'binary' });
      output = createWriteStream(tmp, { mode, flags: 'wx' });
      await pipeline(Readable.fromWeb(signature), output);
    }
    renameSync(tmp, target);
    return target;
  } catch (err) {
    await removeWhenClosed(output, tmp);
    if (err instanceof FluxgateError || typeof (err as NodeJS.ErrnoException).code === 'string') throw err;
    throw new FluxgateError('FG_PGP', `cannot sign ${path}: ${(err as Error).message}`, { path }, { cause: err });
  } finally {
    source?.destroy();
  }
}
