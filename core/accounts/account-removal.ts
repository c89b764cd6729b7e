import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from '../config/paths';
import { FluxgateError } from '../errors';
import { DIRECTORY_SECTIONS, totalRows } from '../store/account-data-repository';
import type { AccountDataRepository, AccountRowCounts, AccountSections, LiveLease } from '../store/ports/account-data';
import type { Account, AccountRepository } from '../store/ports/accounts';
import { sweepTemporariesIn } from '../temporary-sweep';
import { accountJson, isoDate, keyJson } from './cli-format';
import { namedDataRoots, type DataRoot } from './data-roots';
import { hashExport, writeExport } from './removal-export';
import {
  createFolder, findUnfinished, MANIFEST_FORMAT, moveRoot, writeManifest, type RemovalManifest,
} from './removal-folder';

export const DIRECTORY_EXPORT = 'directory.json';
export const JOURNAL_EXPORT = 'journal.json';
const EXPORT_FORMAT = { [DIRECTORY_EXPORT]: 'fluxgate-removed-directory/1', [JOURNAL_EXPORT]: 'fluxgate-removed-journal/1' } as const;

/** Exports written, then found changed at the delete (the server was still writing): tries before giving up. */
const ATTEMPTS = 3;
const REMOVING_REASON = 'being removed (fluxgate account remove)';

export interface RemovalDeps {
  accounts: AccountRepository;
  /** The rows the account owns: exported, then re-checked and deleted in one unit of work. */
  data: AccountDataRepository;
  paths: DataPaths;
  /** `<data>/removed` */
  removedDir: string;
}

export interface AccountRemoval {
  accountId: string;
  /** The account as it was, or undefined when only leftovers of an earlier removal remained. */
  account?: Account;
  /** The one folder that holds everything. */
  folder: string;
  /** This removal finished one a crash or a refusal had left unfinished (started then). */
  resumed: boolean;
  startedAt: string;
  moved: RemovalManifest['moved'];
  exports: RemovalManifest['exports'];
  deleted: Record<string, number>;
}

/** What an id with no account row still has: rows, data roots, an unfinished removal. */
export interface Leftovers {
  rows: AccountRowCounts;
  roots: DataRoot[];
  unfinished?: string;
}

export async function findLeftovers(deps: RemovalDeps, accountId: string): Promise<Leftovers | undefined> {
  const rows = await deps.data.counts(accountId);
  const roots = namedDataRoots(deps.paths, accountId).filter((r) => existsSync(r.path));
  const unfinished = findUnfinished(deps.removedDir, accountId)?.folder;
  return totalRows(rows) > 0 || roots.length > 0 || unfinished ? { rows, roots, unfinished } : undefined;
}

export function describeLeftovers(l: Leftovers): string {
  const { rows } = l;
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  const parts: string[] = [];
  const directory = directoryRows(rows);
  if (directory > 0) parts.push(count(directory, 'directory row'));
  if (rows.files > 0) parts.push(count(rows.files, 'journal file'));
  const other = totalRows(rows) - directory - rows.files - rows.fileEvents;
  if (other > 0) parts.push(count(other, 'other row'));
  for (const r of l.roots) parts.push(r.path);
  if (l.unfinished) parts.push(`an unfinished removal in ${l.unfinished}`);
  return parts.join(', ');
}

/** The removal of this account (of this id when it has no row) a crash or a refusal left unfinished. */
export function unfinishedRemoval(deps: RemovalDeps, accountId: string, account: Account | undefined): ReturnType<typeof findUnfinished> {
  const unfinished = findUnfinished(deps.removedDir, accountId);
  // One of an older account with this id is not this account's.
  if (unfinished && account && unfinished.manifest.account?.createdAt !== isoDate(account.createdAt)) return undefined;
  return unfinished;
}

/**
 * `account remove`: everything of the account leaves the live data, and nothing is lost.
 *
 *  1. the account is disabled (its sessions end at their next re-check; no login, no upload);
 *  2. refused (FG_ACCOUNT_BUSY) while a worker holds one of its files;
 *  3. `removal.json` written in a new `<data>/removed/<id>-<UTC stamp>/` (or the unfinished one);
 *  4. every data root renamed into it (`sftp/`, `archive/`, `quarantine/`, `vault/`, `work/`);
 *  5. the directory rows and the journal exported to directory.json and journal.json, fsynced;
 *  6. one write transaction re-reads the rows: unchanged since the export, they are all deleted
 *     (tombstones kept); changed (the server wrote meanwhile), back to 4;
 *  7. `removal.json` marked finished.
 * A crash anywhere leaves the rows in the database or in the exports (never neither), and the
 * files in their root or in the folder; running it again resumes in the same folder. It accepts
 * an id whose account row is gone as long as something of it remains.
 */
export async function removeAccount(deps: RemovalDeps, accountId: string, now = new Date()): Promise<AccountRemoval> {
  const { accounts, data } = deps;
  const account = await accounts.get(accountId);
  const unfinished = unfinishedRemoval(deps, accountId, account);
  if (!account && !await findLeftovers(deps, accountId)) {
    throw new FluxgateError('FG_ACCOUNT_NOT_FOUND', `no account "${accountId}", and nothing of one remains`, { accountId });
  }
  const snapshot = account ? {
    ...accountJson(account), purgedAt: isoDate(account.purgedAt),
    keys: (await accounts.keys(accountId)).map((k) => ({ ...keyJson(k), publicKey: k.publicKey })),
  } : null;
  // Refused before anything changes; a file taken after this check is caught at the delete.
  if (!unfinished) refuseIfBusy(accountId, await data.liveLeases(accountId));

  const folder = unfinished?.folder ?? createFolder(deps.removedDir, accountId, now);
  const manifest: RemovalManifest = unfinished?.manifest ?? {
    format: MANIFEST_FORMAT, accountId, startedAt: now.toISOString(), finishedAt: null,
    account: snapshot, moved: [], exports: {}, deleted: null,
  };
  writeManifest(folder, manifest);
  // Disabled only once the account as it was is on record: a run after a crash finds it there.
  if (account?.enabled) await accounts.setEnabled(accountId, false, REMOVING_REASON);

  let deleted: AccountRowCounts | undefined;
  for (let attempt = 1; !deleted; attempt++) {
    if (attempt > ATTEMPTS) {
      throw new FluxgateError('FG_ACCOUNT_BUSY',
        `the data of account "${accountId}" kept changing while it was being removed (the server was still processing its files); ` +
        `nothing is lost: what was moved is in ${folder}; run "fluxgate account remove ${accountId}" again in a moment`, { accountId, folder });
    }
    moveRoots(deps, accountId, folder, manifest);
    const expected = await exportRows(data, accountId, folder, manifest, now);
    writeManifest(folder, manifest);
    const removal = await data.removeAccountRows(accountId,
      (current) => hashExport(current.directory).sha256 === expected.directory && hashExport(current.journal).sha256 === expected.journal);
    if ('busy' in removal) refuseIfBusy(accountId, removal.busy, folder);
    if ('removed' in removal) deleted = removal.removed;
  }
  // Whatever a worker that was finishing as the account was disabled wrote after the moves.
  moveRoots(deps, accountId, folder, manifest);
  // Added to an earlier run's of the same removal (one a crash cut short after its delete recorded none).
  manifest.deleted = addCounts(manifest.deleted, { ...deleted });
  manifest.finishedAt = new Date().toISOString();
  writeManifest(folder, manifest);
  return {
    accountId, account, folder, resumed: unfinished !== undefined, startedAt: manifest.startedAt,
    moved: manifest.moved, exports: manifest.exports, deleted: manifest.deleted,
  };
}

/** `folder`: the removal is under way (the account is disabled, some files may be moved there). */
function refuseIfBusy(accountId: string, leases: LiveLease[], folder?: string): void {
  if (leases.length === 0) return;
  const names = leases.map((l) => l.fileName ?? `job ${l.jobId}`).join(', ');
  throw new FluxgateError('FG_ACCOUNT_BUSY',
    `account "${accountId}" has ${leases.length === 1 ? 'a file' : `${leases.length} files`} being processed right now (${names}); ` +
    (folder
      ? `it is disabled, so no new file comes in: run "fluxgate account remove ${accountId}" again in a moment (what was already moved is in ${folder})`
      : `nothing was changed: run "fluxgate account remove ${accountId}" again in a moment (disable it first so that no new file comes in: fluxgate account disable ${accountId})`),
    { accountId, files: leases.map((l) => l.fileId) });
}

function moveRoots(deps: RemovalDeps, accountId: string, folder: string, manifest: RemovalManifest): void {
  for (const root of namedDataRoots(deps.paths, accountId)) {
    if (!existsSync(root.path)) continue;
    const to = moveRoot(root, folder);
    manifest.moved.push({ name: root.name, from: root.path, to });
    // Recorded as soon as it is done: a crash after the next rename still tells where this one went.
    writeManifest(folder, manifest);
  }
}

/**
 * Writes both exports while the account still has rows (overwriting those of an interrupted
 * run: the rows they hold are all still in the database). Once the rows are deleted, the exports
 * written before are the only copy: kept as they are. Returns the hash of the rows each export
 * holds, which the delete transaction must find again.
 */
async function exportRows(data: AccountDataRepository, accountId: string, folder: string, manifest: RemovalManifest, now: Date): Promise<{ directory: string; journal: string }> {
  // A killed run's half-written export (under its temporary name) is of no use: removed.
  sweepTemporariesIn(folder);
  const current: AccountSections = await data.sections(accountId);
  const c = await data.counts(accountId);
  const has = { directory: directoryRows(c) > 0, journal: c.files + c.outputs > 0 };
  const hashes = { directory: '', journal: '' };
  for (const [key, file] of [['directory', DIRECTORY_EXPORT], ['journal', JOURNAL_EXPORT]] as const) {
    if (has[key] || !existsSync(join(folder, file))) {
      const written = writeExport(join(folder, file), { format: EXPORT_FORMAT[file], accountId, exportedAt: now.toISOString() }, current[key]);
      manifest.exports[file] = written.counts;
      hashes[key] = written.sha256;
    } else {
      hashes[key] = hashExport(current[key]).sha256; // no rows: what the delete must still find
    }
  }
  return hashes;
}

function directoryRows(c: AccountRowCounts): number {
  return DIRECTORY_SECTIONS.reduce((sum, t) => sum + c[t], 0);
}

function addCounts(a: Record<string, number> | null, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [k, n] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}
