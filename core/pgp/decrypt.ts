import { createReadStream, mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import { writeFileAtomic } from '../atomic-write';
import { FluxgateError } from '../errors';

export interface DecryptFileOptions {
  /** Plaintext larger than this is refused (FG_DECRYPT) and nothing is kept. */
  maxPlaintextBytes: number;
  signal?: AbortSignal;
  /** Never replace what is at `outputPath` (a file, a link): fail with EEXIST instead (the CLI's -o). */
  exclusive?: boolean;
}

export interface DecryptFileResult {
  /** Plaintext size in bytes. */
  bytes: number;
  /** Whether the upload was ASCII-armored (`gpg --armor`) rather than binary. */
  armored: boolean;
  /** The file name recorded inside the message by the sender (informative only). */
  innerFileName: string;
}

const ARMOR_HEADER = '-----BEGIN PGP MESSAGE-----';

/**
 * Decrypts a PGP message file (binary or armored) into `outputPath`, streaming, with memory
 * bounded whatever the size.
 *
 * GnuPG's default format (SEIPDv1: CFB plus a SHA-1 integrity check at the very end) can only
 * be authenticated once all of it has been read. openpgp.js would therefore buffer the whole
 * message before releasing any plaintext; instead it is told to stream (allowUnauthenticatedStream)
 * into a hidden work file that becomes `outputPath` only after the integrity check passed at
 * the end. On any failure the work file is deleted, so no unauthenticated byte is ever used.
 * AEAD messages (SEIPDv2) are authenticated chunk by chunk and stream the same way.
 *
 * Content problems (not PGP, not for our key, tampered, truncated, too large) throw FG_DECRYPT;
 * system errors (disk full, permissions, abort) are rethrown as they are, so they can be retried.
 */
export async function decryptFile(
  privateKey: openpgp.PrivateKey,
  inputPath: string,
  outputPath: string,
  options: DecryptFileOptions,
): Promise<DecryptFileResult> {
  const armored = await looksArmored(inputPath);
  mkdirSync(dirname(outputPath), { recursive: true, mode: 0o700 });
  const counter = new ByteLimit(options.maxPlaintextBytes);
  const config: openpgp.PartialConfig = {
    allowUnauthenticatedStream: true,
    maxDecompressedMessageSize: options.maxPlaintextBytes,
  };
  // An armored message is text: read as UTF-8 (the decoder keeps a character split between chunks whole).
  const source = createReadStream(inputPath, armored ? { encoding: 'utf8' } : {});
  try {
    const input = Readable.toWeb(source);
    const message: openpgp.Message<NodeWebReadableStream<string> | NodeWebReadableStream<Uint8Array>> = armored
      ? await openpgp.readMessage({ armoredMessage: input as NodeWebReadableStream<string>, config })
      : await openpgp.readMessage({ binaryMessage: input as NodeWebReadableStream<Uint8Array>, config });
    const { data, filename } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary', config });
    const placed = await writeFileAtomic(outputPath, Readable.fromWeb(data), {
      mode: 0o600, exclusive: options.exclusive, signal: options.signal, through: [counter],
    });
    if (!placed) throw Object.assign(new Error(`${outputPath} already exists`), { code: 'EEXIST', path: outputPath });
    return { bytes: counter.bytes, armored, innerFileName: filename };
  } catch (err) {
    throw classify(err, inputPath);
  } finally {
    source.destroy(); // whatever openpgp.js read or cancelled, the descriptor is closed
  }
}

/** Node system errors and aborts are environmental; anything else means the message is bad. */
function classify(err: unknown, inputPath: string): unknown {
  if (err instanceof FluxgateError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new FluxgateError('FG_DECRYPT', `the file cannot be decrypted with the server's PGP key: ${reason}. Encrypt it with the public key published in out/sig/ (binary or --armor), and upload it again`, { reason, file: inputPath }, { cause: err });
}

async function looksArmored(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(256), 0, 256, 0);
    return buffer.subarray(0, bytesRead).toString('latin1').trimStart().startsWith(ARMOR_HEADER);
  } finally {
    await handle.close();
  }
}

/** Counts plaintext bytes and stops the pipeline once the configured limit is passed. */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly max: number) { super(); }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      callback(new FluxgateError('FG_DECRYPT', `the decrypted file is larger than pgp.maxPlaintextBytes (${this.max} bytes)`, { limit: this.max }));
      return;
    }
    callback(null, chunk);
  }
}
