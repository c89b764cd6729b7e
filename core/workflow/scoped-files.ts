import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { writeFileAtomic } from '../atomic-write';
import type { DataPaths } from '../config/paths';
import { FluxgateError } from '../errors';
import type { ScopedFiles } from '../plugin-api/context';
import type { FluxManifest } from '../plugin-api/manifest';

/**
 * File access for a handler, limited to what its manifest grants. Paths are account-relative
 * (`out/sal/x.csv`); `vault/…` maps to the account's document vault outside the SFTP tree.
 * Writing a path implies reading it.
 */
export class ManifestScopedFiles implements ScopedFiles {
  constructor(
    private readonly paths: DataPaths,
    private readonly accountId: string,
    private readonly manifest: FluxManifest,
    /** false in a sandbox, where Node's permission model disables fchmod (atomic-write.ts). */
    private readonly chmod = true,
  ) {}

  resolve(path: string, access: 'read' | 'write'): string {
    const rel = normalise(path);
    const grants = access === 'read'
      ? [...this.manifest.permissions.read, ...this.manifest.permissions.write]
      : this.manifest.permissions.write;
    // Manifests are checked at load (manifest-check.ts); an empty grant still grants nothing here.
    const allowed = grants.map(normalise).some((g) => g !== '' && (rel === g || rel.startsWith(`${g}/`)));
    if (!allowed) {
      throw new FluxgateError('FG_PLUGIN_PERMISSION',
        `handler for flux "${this.manifest.flux}" may not ${access} "${path}": its manifest grants ${access} on ${grants.length ? grants.map((g) => `"${g}"`).join(', ') : 'nothing'}`,
        { path, access, flux: this.manifest.flux });
    }
    if (rel === 'vault' || rel.startsWith('vault/')) return join(this.paths.vault(this.accountId), rel.slice('vault'.length));
    return join(this.paths.accountRoot(this.accountId), rel);
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(this.resolve(path, 'read'));
  }

  createReadStream(path: string): Readable {
    return createReadStream(this.resolve(path, 'read'));
  }

  async writeFile(path: string, data: string | Buffer | Readable): Promise<void> {
    const target = this.resolve(path, 'write');
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    // Readers never see half a file.
    await writeFileAtomic(target, data, { mode: 0o640, chmod: this.chmod });
  }

  async list(path: string): Promise<string[]> {
    try {
      return (await readdir(this.resolve(path, 'read'))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async remove(path: string): Promise<void> {
    await rm(this.resolve(path, 'write'), { force: true });
  }
}

/** `./out//sal/` → `out/sal`; anything that escapes the account (absolute, `..`) is refused. */
function normalise(path: string): string {
  if (path.includes('\0')) throw new FluxgateError('FG_PLUGIN_PERMISSION', `invalid path "${path}"`);
  const p = posix.normalize(path.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (p.startsWith('/') || p === '..' || p.startsWith('../')) {
    throw new FluxgateError('FG_PLUGIN_PERMISSION', `path "${path}" leaves the account's tree`, { path });
  }
  return p === '.' ? '' : p;
}
