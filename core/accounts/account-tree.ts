import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountProfile } from '../store/accounts-repository';

/**
 * Directories of an exchange account (the design card's default tree, docs/accounts.md): in/ and out/ are symmetrical, dev/ is scratch.
 * The design card's out/ list omits dis and pro, whose reports land there by that symmetry: they are
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
      if (!alreadyThere(err) || !statSync(path).isDirectory()) throw err;
    }
  }
}

/** Already there (a tree being completed) is fine; a file in its place is not (the caller checks). */
const alreadyThere = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'EEXIST';

/** EXCHANGE_TREE by depth: the directories of one level can be made at once. */
const TREE_LEVELS: readonly (readonly string[])[] = (() => {
  const levels: string[][] = [];
  for (const dir of EXCHANGE_TREE) (levels[dir.split('/').length - 1] ??= []).push(dir);
  return levels;
})();

/**
 * The trees of many accounts (`account import`), as createAccountTree makes them, several
 * accounts at a time: each mkdir is a round trip to libuv's thread pool, and with several in
 * flight the file system works on some while others wait (about twice as fast as one at a time,
 * docs/accounts.md).
 */
export async function createAccountTrees(accounts: ReadonlyArray<{ root: string; profile: AccountProfile }>, concurrency = 8): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < accounts.length) {
      const { root, profile } = accounts[next++];
      await mkdir(root, { recursive: true, mode: DIR_MODE });
      if (profile !== 'exchange') continue;
      for (const level of TREE_LEVELS) await Promise.all(level.map((dir) => mkdirAsync(join(root, dir))));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
}

async function mkdirAsync(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: DIR_MODE });
  } catch (err) {
    if (!alreadyThere(err) || !(await stat(path)).isDirectory()) throw err;
  }
}
