import { mkdirSync } from 'node:fs';
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

/** Creates (or completes) the account's tree; a dropbox account is just its root. Idempotent. */
export function createAccountTree(root: string, profile: AccountProfile): void {
  mkdirSync(root, { recursive: true, mode: DIR_MODE });
  if (profile !== 'exchange') return;
  for (const dir of EXCHANGE_TREE) mkdirSync(join(root, dir), { recursive: true, mode: DIR_MODE });
}
