import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileDigest {
  size: number;
  sha1: string;
  sha256: string;
}

/** SHA-1 (for the receipt protocol) and SHA-256 in one pass over the file. */
export async function digestFile(path: string): Promise<FileDigest> {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    sha1.update(chunk);
    sha256.update(chunk);
    size += chunk.length;
  }
  return { size, sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
}
