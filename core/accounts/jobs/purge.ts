import { rm } from 'node:fs/promises';
import type { DataPaths } from '../../config/paths';
import { totalRows, type DirectoryCounts } from '../../store/account-data-repository';
import type { AccountRepository } from '../../store/ports/accounts';
import type { RetentionRepository } from '../../store/ports/jobs';
import type { FileDeleter } from '../../retention/deleter';
import { walkFiles } from '../../retention/tree-scan';
import { namedDataRoots } from '../data-roots';

export const PURGE_RULE = 'account-purge';

/** Everywhere an account's files live: its SFTP tree, archive, quarantine, vault and work space. */
export function accountDataRoots(paths: DataPaths, accountId: string): string[] {
  return namedDataRoots(paths, accountId).map((r) => r.path);
}

/** Flat (a job action's detail is printed `key value, …`): the directory rows in all, then by table. */
export interface PurgeCounts extends DirectoryCounts {
  files: number;
  bytes: number;
  /** Directory rows (organizations, employees, users, documents, employee versions): personal data, deleted with the files. */
  directoryRows: number;
}

/** Counts what a purge would delete (files, bytes, directory rows), without touching anything. */
export async function countPurge(paths: DataPaths, accounts: AccountRepository, accountId: string): Promise<PurgeCounts> {
  let files = 0;
  let bytes = 0;
  for (const root of accountDataRoots(paths, accountId)) {
    for await (const f of walkFiles(root)) { files++; bytes += f.st.size; }
  }
  const directory = await accounts.directoryCounts(accountId);
  return { files, bytes, directoryRows: totalRows(directory), ...directory };
}

/**
 * Purges an account: every file deleted through the tombstone protocol (so a crash part way
 * resumes at the next run), journal rows marked `deleted`, then, in one transaction, its
 * directory rows deleted and the account row kept but marked purged, disabled, and stripped of
 * its keys and password. Tombstones and the journal are kept: they say what was deleted.
 */
export async function purgeAccount(
  deps: { paths: DataPaths; accounts: AccountRepository; retention: RetentionRepository; deleter: FileDeleter },
  accountId: string,
  asOf: number,
): Promise<PurgeCounts> {
  const { paths, accounts, retention, deleter } = deps;
  // No session may add files while the tree is emptied.
  await accounts.setEnabled(accountId, false, 'being purged after inactivity', asOf);
  const journal = await retention.journalAt(accountId);
  let files = 0;
  let bytes = 0;
  // A second pass catches anything written while the first ran (a session that was already open).
  for (let pass = 0; pass < 2; pass++) {
    for (const root of accountDataRoots(paths, accountId)) {
      for await (const f of walkFiles(root)) {
        const row = journal.get(f.abs);
        const result = await deleter.delete({
          accountId, path: f.abs, rule: PURGE_RULE, fileId: row?.fileId ?? null,
          known: row ? { size: row.size, sha256: row.sha256 } : undefined,
        }, asOf);
        if (result === 'deleted') { files++; bytes += f.st.size; }
      }
    }
  }
  // Journal rows whose file was elsewhere or already gone still learn that it is gone.
  for (const row of await retention.undeletedFiles(accountId)) {
    await deleter.delete({ accountId, path: row.location, rule: PURGE_RULE, fileId: row.fileId, known: { size: row.size, sha256: row.sha256 } }, asOf);
  }
  for (const root of accountDataRoots(paths, accountId)) await rm(root, { recursive: true, force: true });
  const directory = await accounts.purgeRows(accountId, asOf, 'purged after inactivity', (deleted) => ({
    type: 'account.purged', at: asOf, account: accountId,
    summary: `account ${accountId} purged after inactivity: ${files} file(s), ${totalRows(deleted)} directory row(s) deleted`,
    data: { files, bytes, directoryRows: totalRows(deleted) },
  }));
  await retention.forgetAccount(accountId);
  return { files, bytes, directoryRows: totalRows(directory), ...directory };
}
