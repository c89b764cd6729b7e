import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountProfile } from '../store/accounts-repository';

/**
 * Directories of an exchange account (DESIGN.md): in/ and out/ are symmetrical, dev/ is scratch.
 * DESIGN.md's out/ list omits dis and pro, whose reports land there by that symmetry: they are
 * created with the rest, so a client polling out/dis finds it before the first report.
 */
export const EXCHANGE_TREE: readonly string[] = [
  'in', 'in/rpa', 'in/rpa/emp', 'in/rpa/gen', 'in/rpa/prc', 'in/rpa/req', 'in/rpa/sig',
  'in/sal', 'in/sig', 'in/sir', 'in/usr', 'in/dis', 'in/pro',
  'out', 'out/rpa', 'out/rpa/emp', 'out/rpa/gen', 'out/rpa/prc', 'out/rpa/req', 'out/rpa/sig',
  'out/sal', 'out/sig', 'out/sir', 'out/usr', 'out/dis', 'out/pro', 'out/bil', 'out/bir', 'out/ins', 'out/tra',
  'dev',
];

const DIR_MODE = 0o750;

/**
 * Creates (or completes) the account's tree; a dropbox account is just its root. Idempotent.
 * EXCHANGE_TREE lists parents first, so each directory is one plain mkdir: a recursive mkdir
 * would probe every ancestor again, which `account import` of thousands of accounts pays for.
 */
export function createAccountTree(root: string, profile: AccountProfile): void {
  mkdirSync(root, { recursive: true, mode: DIR_MODE });
  if (profile !== 'exchange') return;
  for (const dir of EXCHANGE_TREE) {
    const path = join(root, dir);
    try {
      mkdirSync(path, { mode: DIR_MODE });
    } catch (err) {
      // Already there (a tree being completed) is fine; a file in its place is not.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(path).isDirectory()) throw err;
    }
  }
}
