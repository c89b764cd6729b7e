import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from '../config/paths';
import type { Account } from '../store/accounts-repository';
import { writeFileAtomicSync } from '../atomic-write';
import { PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME } from './names';
import { PUBLIC_KEY_FILE } from './server-key';

export type PublishResult = 'written' | 'unchanged' | 'skipped';

/**
 * Puts the armored public key in `<account>/out/sig/fluxgate-public-key.asc`, where the client
 * fetches it to encrypt uploads and verify report signatures. Only exchange accounts have an
 * out/ tree; an account without a tree on disk (purged, moved aside) is skipped. Rewrites the
 * file only when the key changed, atomically.
 */
export function publishPublicKey(paths: DataPaths, account: Pick<Account, 'id' | 'profile'>, armoredPublicKey: string, fileMode: number): PublishResult {
  if (account.profile !== 'exchange') return 'skipped';
  const root = paths.accountRoot(account.id);
  if (!existsSync(root)) return 'skipped';
  const dir = join(root, PUBLIC_KEY_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const target = join(dir, PUBLIC_KEY_FILE_NAME);
  if (existsSync(target) && readFileSync(target, 'utf8') === armoredPublicKey) return 'unchanged';
  writeFileAtomicSync(target, armoredPublicKey, { mode: fileMode });
  return 'written';
}

/** `pgp publish` and POST /api/v1/pgp/publish: the key into every account's tree but the purged ones'. */
export function publishToAccounts(paths: DataPaths, accounts: ReadonlyArray<Pick<Account, 'id' | 'profile' | 'purgedAt'>>, armoredPublicKey: string, fileMode: number): Record<PublishResult, number> {
  const counts: Record<PublishResult, number> = { written: 0, unchanged: 0, skipped: 0 };
  for (const account of accounts) counts[account.purgedAt === null ? publishPublicKey(paths, account, armoredPublicKey, fileMode) : 'skipped']++;
  return counts;
}

/**
 * For account creation (synchronous, no key loading): publishes the copy of the public key the
 * server keeps in `<data>/pgp/` once its key is loaded. Before the server's first start there
 * is no key yet and nothing is published; the server publishes to every account when it starts.
 */
export function publishStoredPublicKey(paths: DataPaths, account: Pick<Account, 'id' | 'profile'>, fileMode: number): PublishResult {
  const stored = join(paths.pgpDir, PUBLIC_KEY_FILE);
  if (!existsSync(stored)) return 'skipped';
  return publishPublicKey(paths, account, readFileSync(stored, 'utf8'), fileMode);
}
