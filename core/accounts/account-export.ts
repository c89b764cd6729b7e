import type { AccountKey, AccountRepository } from '../store/ports/accounts';
import type { AccountRecord } from './account-csv';

export interface AccountExport {
  /** Every account but the purged ones, in id order, as `account import` reads them back. */
  accounts: AccountRecord[];
  /** Purged accounts: their keys and files are gone, a row would not import (and should not be brought back). */
  purged: string[];
}

/**
 * `account export`: the accounts in the import format (account-csv.ts). Importing it on an
 * empty data directory recreates the same accounts (profile, partner, allowlist, enabled) and
 * keys; what the format does not hold (key dates, options, passwords) is in docs/accounts.md.
 */
export async function exportAccounts(repo: AccountRepository): Promise<AccountExport> {
  const keysOf = new Map<string, AccountKey[]>();
  for (const key of await repo.allKeys()) keysOf.set(key.accountId, [...(keysOf.get(key.accountId) ?? []), key]);
  const out: AccountExport = { accounts: [], purged: [] };
  for (const a of await repo.list()) {
    if (a.purgedAt !== null) {
      out.purged.push(a.id);
      continue;
    }
    out.accounts.push({
      id: a.id, profile: a.profile, partner: a.partner, allowIps: a.allowIps, enabled: a.enabled,
      keys: (keysOf.get(a.id) ?? []).map((k) => k.publicKey),
    });
  }
  return out;
}
