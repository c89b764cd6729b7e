import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The repository: two levels up from the sources, three from their compiled copy in dist/.
 * A module of its own, light to load: the plugin sandbox (core/sandbox/child.ts) needs it and
 * not the configuration's schemas (~130 ms of every sandbox's start when it came with them).
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}
