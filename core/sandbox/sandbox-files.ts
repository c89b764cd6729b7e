import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ManifestScopedFiles } from '../workflow/scoped-files';

/**
 * ctx.files in a sandbox: the engine's scoped files (the same grant checks, before the runtime's
 * own), with writes made without fchmod, which Node's permission model disables: the temporary
 * file is created with its mode (the umask may narrow it), then renamed into place.
 */
export class SandboxFiles extends ManifestScopedFiles {
  override async writeFile(path: string, data: string | Buffer | Readable): Promise<void> {
    const target = this.resolve(path, 'write');
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    const temp = join(dirname(target), `.fg-tmp-${process.pid}-${randomBytes(4).toString('hex')}-${basename(target)}`);
    try {
      if (data instanceof Readable) await pipeline(data, createWriteStream(temp, { flags: 'wx', mode: 0o640 }));
      else await writeFile(temp, data, { flag: 'wx', mode: 0o640 });
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}
