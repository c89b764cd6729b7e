import { createReadStream, createWriteStream, renameSync, type WriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import { FluxgateError } from '../errors';
import { removeWhenClosed, temporaryNameFor } from './files';
import { signatureNameOf } from './names';

/**
 * Writes a detached binary signature of `path` to `<path>.sig` (what `gpg --detach-sign`
 * makes, checked with `gpg --verify <path>.sig <path>`), streaming the file. The signature
 * appears atomically: a client never downloads half of one. Returns the signature's path.
 */
export async function signFileDetached(privateKey: openpgp.PrivateKey, path: string, mode = 0o640): Promise<string> {
  const target = signatureNameOf(path);
  const tmp = temporaryNameFor(target);
  let output: WriteStream | undefined;
  const source = createReadStream(path);
  try {
    const input = Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>;
    const message = await openpgp.createMessage({ binary: input });
    const signature = await openpgp.sign({ message, signingKeys: privateKey, detached: true, format: 'binary' });
    output = createWriteStream(tmp, { mode, flags: 'wx' });
    await pipeline(Readable.fromWeb(signature as unknown as NodeWebReadableStream<Uint8Array>), output);
    renameSync(tmp, target);
    return target;
  } catch (err) {
    await removeWhenClosed(output, tmp);
    if (err instanceof FluxgateError || typeof (err as NodeJS.ErrnoException).code === 'string') throw err;
    throw new FluxgateError('FG_PGP', `cannot sign ${path}: ${(err as Error).message}`, { path }, { cause: err });
  } finally {
    source.destroy();
  }
}
