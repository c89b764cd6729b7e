import { createReadStream, type ReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as openpgp from 'openpgp';
import { writeFileAtomic } from '../atomic-write';
import { FluxgateError } from '../errors';
import { signatureNameOf } from './names';

/** Files up to this size are signed from memory (native RSA/EdDSA), bigger ones streamed. */
const SIGN_IN_MEMORY_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Writes a detached binary signature of `path` to `<path>.sig` (what `gpg --detach-sign`
 * makes, checked with `gpg --verify <path>.sig <path>`), streaming a big file. The signature
 * appears atomically: a client never downloads half of one. Returns the signature's path.
 */
/** Makes a detached binary signature of bytes held in memory (another thread may: sign-thread.ts). */
export type SignBytes = (bytes: Uint8Array) => Promise<Uint8Array>;

export async function signFileDetached(privateKey: openpgp.PrivateKey, path: string, mode = 0o640, signBytes?: SignBytes): Promise<string> {
  const target = signatureNameOf(path);
  let source: ReadStream | undefined;
  try {
    // openpgp signs a streamed message with its own BigInt RSA (~155 ms of CPU for RSA 4096
    // here), bytes with Node's crypto (~3 ms): reports and receipts are small, read them whole.
    if ((await stat(path)).size <= SIGN_IN_MEMORY_MAX_BYTES) {
      const bytes = await readFile(path);
      const signature = signBytes
        ? await signBytes(bytes)
        : await openpgp.sign({ message: await openpgp.createMessage({ binary: bytes }), signingKeys: privateKey, detached: true, format: 'binary' });
      await writeFileAtomic(target, signature, { mode });
    } else {
      source = createReadStream(path);
      const message = await openpgp.createMessage({ binary: Readable.toWeb(source) });
      const signature = await openpgp.sign({ message, signingKeys: privateKey, detached: true, format: 'binary' });
      await writeFileAtomic(target, Readable.fromWeb(signature), { mode });
    }
    return target;
  } catch (err) {
    if (err instanceof FluxgateError || typeof (err as NodeJS.ErrnoException).code === 'string') throw err;
    throw new FluxgateError('FG_PGP', `cannot sign ${path}: ${(err as Error).message}`, { path }, { cause: err });
  } finally {
    source?.destroy();
  }
}
