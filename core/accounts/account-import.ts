import { isFluxgateError, type ErrorCode } from '../errors';
import type { Account, AccountKey, AccountProfile, AccountRepository } from '../store/ports/accounts';
import { readAccountCsv, type AccountCsvRow, type AccountRecord } from './account-csv';
import type { AccountService, CheckedAccount } from './account-service';

/**
 * `account import`: many accounts from one CSV file (account-csv.ts), each row checked as
 * `account add` checks it (AccountService.checkSettings and assertIdAvailable). A bad row is
 * refused and nothing of it is written; an account that exists is `unchanged` when the row says
 * what it already is, else a `conflict` (never modified: that is `account update`'s job).
 * Used by the CLI; the HTTP API calls the same service.
 */

export type ImportStatus = 'created' | 'unchanged' | 'conflict' | 'refused';

export interface ImportRowResult {
  line: number;
  id: string;
  /** In a dry run, `created` means "would be created": nothing is written. */
  status: ImportStatus;
  code?: ErrorCode;
  message?: string;
}

export interface ImportReport {
  file: string;
  dryRun: boolean;
  counts: Record<ImportStatus, number>;
  rows: ImportRowResult[];
}

export interface ImportOptions {
  dryRun?: boolean;
  now?: number;
  /** Accounts written per transaction. */
  batchSize?: number;
}

/** Rows that passed every check, waiting to be written. */
interface PendingAccount { result: ImportRowResult; checked: CheckedAccount; enabled?: boolean }

const DEFAULT_BATCH = 1000;

export class AccountImportService {
  constructor(
    private readonly accounts: AccountService,
    private readonly repo: AccountRepository,
  ) {}

  async importFile(path: string, options: ImportOptions = {}): Promise<ImportReport> {
    const rows = await readAccountCsv(path);
    const { results, pending } = await this.check(rows);
    if (!options.dryRun) await this.write(pending, options.now ?? Date.now(), options.batchSize ?? DEFAULT_BATCH);
    const counts: Record<ImportStatus, number> = { created: 0, unchanged: 0, conflict: 0, refused: 0 };
    for (const r of results) counts[r.status]++;
    return { file: path, dryRun: options.dryRun ?? false, counts, rows: results };
  }

  /** Every row checked against the rules, the rest of the file and the store; nothing written. */
  private async check(rows: AccountCsvRow[]): Promise<{ results: ImportRowResult[]; pending: PendingAccount[] }> {
    const linesOf = new Map<string, number[]>();
    for (const row of rows) if (row.id !== '') linesOf.set(row.id, [...(linesOf.get(row.id) ?? []), row.line]);
    const results: ImportRowResult[] = [];
    const pending: PendingAccount[] = [];
    for (const row of rows) {
      const result: ImportRowResult = { line: row.line, id: row.id, status: 'refused' };
      results.push(result);
      if (row.problem || !row.record) {
        Object.assign(result, row.problem);
        continue;
      }
      const lines = linesOf.get(row.id)!;
      if (lines.length > 1) {
        // Every occurrence is refused: which of two different rows is right is the operator's call.
        Object.assign(result, { code: 'FG_DUP_IN_FILE', message: `account "${row.id}" is on lines ${lines.join(', ')}: give each account once` });
        continue;
      }
      try {
        const checked = this.accounts.checkSettings({ ...row.record, profile: row.record.profile as AccountProfile | undefined, publicKeys: row.record.keys });
        const existing = await this.repo.get(checked.id);
        if (existing) {
          const diff = differences(existing, await this.repo.keys(existing.id), checked, row.record);
          if (diff.length === 0) result.status = 'unchanged';
          else Object.assign(result, { status: 'conflict', code: 'FG_ACCOUNT_CONFLICT', message: conflictMessage(checked.id, diff) });
          continue;
        }
        await this.accounts.assertIdAvailable(checked.id);
        result.status = 'created';
        pending.push({ result, checked, enabled: row.record.enabled });
      } catch (err) {
        if (!isFluxgateError(err)) throw err;
        Object.assign(result, { code: err.code, message: err.message });
      }
    }
    return { results, pending };
  }

  /**
   * One unit of work per batch (AccountRepository.insertAccounts: one write transaction, taken at
   * once, so a server writing meanwhile waits rather than fails it), then the batch's account files. An id another process created since the
   * check becomes a conflict.
   */
  private async write(pending: PendingAccount[], now: number, batchSize: number): Promise<void> {
    for (let start = 0; start < pending.length; start += batchSize) {
      const batch = pending.slice(start, start + batchSize);
      const inserted = await this.repo.insertAccounts(
        batch.map((p) => this.accounts.newAccountEntry(p.checked, now, p.enabled === false ? 'disabled in the imported file' : undefined)), now);
      const created = batch.filter((p, i) => {
        if (inserted[i]) return true;
        Object.assign(p.result, { status: 'conflict', code: 'FG_ACCOUNT_CONFLICT', message: `account "${p.checked.id}" was created by another process during the import: run the import again to compare it with the row` });
        return false;
      });
      // After the commit: a tree without its row would read as a removed account's leftovers.
      await this.accounts.createAccountsFiles(created.map((p) => p.checked));
    }
  }
}

/** What differs between the account in the store and the row, in words; empty when nothing does. */
function differences(existing: Account, keys: AccountKey[], row: CheckedAccount, record: AccountRecord): string[] {
  const diff: string[] = [];
  const quoted = (v: string | null): string => (v === null ? 'none' : `"${v}"`);
  if (existing.profile !== row.profile) diff.push(`profile is ${existing.profile} (the file: ${row.profile})`);
  if (existing.partner !== row.partner) diff.push(`partner is ${quoted(existing.partner)} (the file: ${quoted(row.partner)})`);
  const ips = (list: string[]): string => [...list].sort().join('|') || 'any address';
  if (ips(existing.allowIps) !== ips(row.allowIps)) diff.push(`allow_ips is ${ips(existing.allowIps)} (the file: ${ips(row.allowIps)})`);
  const stored = new Set(keys.map((k) => k.fingerprint));
  const given = new Set(row.keys.map((k) => k.fingerprint));
  const onlyStored = [...stored].filter((f) => !given.has(f));
  const onlyGiven = [...given].filter((f) => !stored.has(f));
  if (onlyStored.length > 0) diff.push(`key${onlyStored.length > 1 ? 's' : ''} ${onlyStored.join(', ')} not in the file`);
  if (onlyGiven.length > 0) diff.push(`key${onlyGiven.length > 1 ? 's' : ''} ${onlyGiven.join(', ')} not on the account`);
  if (record.enabled !== undefined && record.enabled !== existing.enabled) diff.push(`it is ${existing.enabled ? 'enabled' : 'disabled'} (the file: ${record.enabled ? 'enabled' : 'disabled'})`);
  if (existing.purgedAt !== null) diff.push('it was purged');
  return diff;
}

function conflictMessage(id: string, diff: string[]): string {
  return `account "${id}" exists with other settings: ${diff.join('; ')}. The import changes no existing account: ` +
    `change it with account update / key add / key remove (or remove it and import again), or fix the row`;
}
