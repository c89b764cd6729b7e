import { table } from '../text-table';
import { isKeyExpired } from './key-policy';
import type { Account, AccountKey } from '../store/accounts-repository';
import type { AccountRemoval } from './account-removal';
import { totalRows } from '../store/account-data-repository';
import type { ImportReport } from './account-import';

/** Shared output shapes of the account, key and hostkeys commands. */

export const isoDate = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
const day = (ms: number | null | undefined): string => (ms == null ? '-' : new Date(ms).toISOString().slice(0, 10));

export function keyJson(k: AccountKey, now = Date.now()): Record<string, unknown> {
  return {
    type: k.type, bits: k.bits, fingerprint: k.fingerprint, comment: k.comment,
    added: isoDate(k.addedAt), expires: isoDate(k.expiresAt), expired: isKeyExpired(k, now),
  };
}

export function accountJson(a: Account, keys?: AccountKey[]): Record<string, unknown> {
  return {
    id: a.id, profile: a.profile, partner: a.partner, enabled: a.enabled, disabledReason: a.disabledReason,
    disabledAt: isoDate(a.disabledAt), allowIps: a.allowIps, passwordFallback: a.passwordHash !== null, options: a.options,
    createdAt: isoDate(a.createdAt), lastLoginAt: isoDate(a.lastLoginAt),
    ...(keys ? { keys: keys.map((k) => keyJson(k)) } : {}),
  };
}


export function keyRows(keys: AccountKey[], now = Date.now()): string[] {
  return table(['TYPE', 'BITS', 'FINGERPRINT', 'ADDED', 'EXPIRES', 'STATUS', 'COMMENT'], keys.map((k) => [
    k.type, String(k.bits), k.fingerprint, day(k.addedAt), day(k.expiresAt), isKeyExpired(k, now) ? 'expired' : 'valid', k.comment,
  ]));
}

export function accountRows(accounts: Account[], keyCount: (id: string) => number): string[] {
  return table(['ID', 'PROFILE', 'PARTNER', 'STATUS', 'KEYS', 'ALLOW-IP', 'LAST LOGIN'], accounts.map((a) => [
    a.id, a.profile, a.partner ?? '-', a.enabled ? 'enabled' : 'disabled', String(keyCount(a.id)),
    a.allowIps.length ? String(a.allowIps.length) : 'any', a.lastLoginAt ? new Date(a.lastLoginAt).toISOString() : 'never',
  ]));
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What `account remove --json` prints: the account as it was (no password hash), where everything went, what was deleted. */
export function removalJson(r: AccountRemoval): Record<string, unknown> {
  return {
    accountId: r.accountId, account: r.account ? accountJson(r.account) : null, folder: r.folder, resumed: r.resumed,
    startedAt: r.startedAt, moved: r.moved, exports: r.exports, deleted: r.deleted,
  };
}

/** What `account remove` prints: where everything went. */
export function removalLines(r: AccountRemoval): string[] {
  const head = r.account ? `account ${r.accountId} removed` : `what remained of account ${r.accountId} (its account row was already gone) removed`;
  const lines = [`${head}${r.resumed ? ` (finishing the removal started at ${r.startedAt})` : ''}`];
  lines.push(`everything of it was moved to ${r.folder} (delete that folder when the data may go):`);
  const rows: string[][] = r.moved.map((m) => [`${m.to}/`, `was ${m.from}`]);
  const dir = r.exports['directory.json'];
  // Employee versions exist only for files that never finished: named when there are some.
  const versions = dir?.employeeVersions ? `, ${plural(dir.employeeVersions, 'employee version')} kept by unfinished files` : '';
  if (dir) rows.push(['directory.json', `${plural(dir.organizations ?? 0, 'organization')}, ${plural(dir.employees ?? 0, 'employee')}, ${plural(dir.users ?? 0, 'user')}, ${plural(dir.documents ?? 0, 'document')}${versions}`]);
  const journal = r.exports['journal.json'];
  if (journal) rows.push(['journal.json', `${plural(journal.files ?? 0, 'journal file')} with ${plural(journal.events ?? 0, 'event')}, ${plural(journal.outputs ?? 0, 'output')}`]);
  rows.push(['removal.json', r.account ? 'the account, its keys, and what went where' : 'what went where']);
  for (const line of table(['', ''], rows).slice(1)) lines.push(`  ${line}`);
  lines.push(`${plural(totalRows(r.deleted), 'row')} deleted from the database (tombstones, the record of deleted files, are kept)`);
  return lines;
}

/** What `account import` prints: one line per row (refused and conflicting rows with their code and why), then the counts. */
export function importLines(r: ImportReport): string[] {
  const status = (s: string): string => (r.dryRun && s === 'created' ? 'would create' : s);
  const lines = table(['LINE', 'ID', 'STATUS', 'CODE', 'MESSAGE'], r.rows.map((row) => [
    String(row.line), row.id || '-', status(row.status), row.code ?? '', row.message ?? '',
  ]));
  const c = r.counts;
  const summary = `${plural(c.created, 'account')} ${r.dryRun ? 'would be created' : 'created'}, ${c.unchanged} unchanged, ${plural(c.conflict, 'conflict')}, ${c.refused} refused`;
  lines.push(r.dryRun ? `dry run of ${r.file}, nothing written: ${summary}` : `${r.file}: ${summary}`);
  if (c.unchanged === r.rows.length && r.rows.length > 0) lines.push('nothing to do: every account of the file exists as described');
  return lines;
}
