import { stat } from 'node:fs/promises';
import { basename, relative, sep } from 'node:path';
import type { DataPaths } from '../config/paths';
import type { UploadClient } from '../events';
import type { Logger } from '../logging/logger';
import type { FileJobs } from '../queue/file-jobs';
import { LIVE_STATES, type JournalFile, type OutcomeSummary } from '../store/journal-types';
import type { Account, AccountProfile, AccountRepository } from '../store/ports/accounts';
import type { JournalRepository } from '../store/ports/journal';
import { isHiddenName, isPartialUpload } from '../upload-names';
import { archiveDestination, moveInput, quarantineDestination, UNMATCHED_FLUX } from '../workflow/input-moves';
import { digestFile } from './hash';
import { uploadIdentity } from './upload-identity';

/** The flux whose workflow takes an account-relative path (`in/sal/x.csv`) of an account of this profile; null when none does. */
export type RouteFile = (profile: AccountProfile, relativePath: string) => string | null;

export interface IntakeDeps {
  paths: DataPaths;
  accounts: Pick<AccountRepository, 'get'>;
  journal: JournalRepository;
  /** The engine's "process this file": the job, with the attempts of the file's workflow. */
  files: FileJobs;
  /** The workflows' matching, given by the engine (intake knows no workflow registry). */
  route: RouteFile;
  logger: Logger;
}

/** Files already journaled that intake has said so about (warned once per process, not at every look). */
const MAX_REMEMBERED = 10_000;
/**
 * A finished file still at its intake path is moved by whoever finished it, within milliseconds;
 * only after this long is it taken for one a crash left there (another node's scan would
 * otherwise race the live node's own move).
 */
const LEFT_BY_A_CRASH_MS = 60_000;

/**
 * Turns a completed file in an account tree into exactly one journal entry and one queue job,
 * whoever reports it first (the SFTP server's announcement, the watcher, the scan), on this node
 * or another: recorded once per upload (its identity: upload-identity.ts), whatever happened to
 * the entry since.
 */
export class Intake {
  private readonly inFlight = new Set<string>();
  private readonly warnedAlreadyJournaled = new Set<string>();
  /** The SFTP client of a file another source is taking in right now: its row gets it all the same. */
  private readonly lateClients = new Map<string, UploadClient>();
  private readonly log: Logger;

  constructor(private readonly deps: IntakeDeps) {
    this.log = deps.logger.child({ component: 'intake' });
  }

  /** Account-relative path when the engine takes files from there, else undefined. */
  acceptedPath(account: Account, absolutePath: string): string | undefined {
    const rel = relative(this.deps.paths.accountRoot(account.id), absolutePath).split(sep).join('/');
    if (!rel || rel.startsWith('..')) return undefined;
    const parts = rel.split('/');
    if (parts.some(isHiddenName) || isPartialUpload(parts[parts.length - 1])) return undefined;
    // in/x.csv is taken too: no workflow serves it, so it is rejected and kept rather than ignored.
    if (account.profile === 'exchange') return parts[0] === 'in' && parts.length >= 2 ? rel : undefined;
    return parts.length === 1 ? rel : undefined;
  }

  /** Whether the file is being taken in right now or already has a live journal entry. */
  async isTaken(absolutePath: string): Promise<boolean> {
    return this.inFlight.has(absolutePath) || await this.deps.journal.liveAt(absolutePath) !== undefined;
  }

  /**
   * `client`: who uploaded it, when the SFTP server announces it; files found in the tree (the
   * scan, the watcher: dropped by other means) have none and are journaled without.
   */
  async consider(accountId: string, absolutePath: string, via: string, client?: UploadClient): Promise<JournalFile | undefined> {
    const account = await this.deps.accounts.get(accountId);
    if (!account || account.purgedAt) return undefined;
    const rel = this.acceptedPath(account, absolutePath);
    if (!rel) return undefined;
    if (this.inFlight.has(absolutePath)) {
      if (client) this.lateClients.set(absolutePath, client);
      return undefined;
    }
    // Taken before the first await: a second report of the same path meanwhile stops above.
    this.inFlight.add(absolutePath);
    try {
      if (await this.deps.journal.liveAt(absolutePath)) return undefined;
      const before = await stat(absolutePath, { bigint: true }).catch(() => undefined);
      if (!before?.isFile()) return undefined;
      const identity = uploadIdentity(before);
      // Journaled already (by this node or another), and since processed: not taken in twice, not even digested.
      const earlier = await this.deps.journal.uploadEntry(account.id, rel, identity);
      if (earlier) return await this.alreadyJournaled(earlier, absolutePath, identity, via);
      const digest = await digestFile(absolutePath);
      const after = await stat(absolutePath, { bigint: true }).catch(() => undefined);
      // Still being written by something that does not use temporary names: the next event will bring it back.
      if (!after || Number(after.size) !== digest.size || uploadIdentity(after) !== identity) return undefined;
      const flux = this.deps.route(account.profile, rel);
      // The row and its job commit together; the account is read again inside, as late as
      // possible: a file arriving once `account disable` has returned is refused.
      const recorded = await this.deps.journal.recordUpload({
        accountId: account.id, profile: account.profile, flux, workflow: flux,
        originalPath: rel, name: basename(rel), size: digest.size, sha1: digest.sha1, sha256: digest.sha256, location: absolutePath,
        client: client ?? this.lateClients.get(absolutePath) ?? null, identity,
      }, (file) => this.deps.files.jobFor(file), (now, file) => disabledRefusal(now, file.id));
      if (!recorded) {
        // Another node (or source) recorded this upload while it was digested here: its entry is the one.
        this.log.debug({ account: account.id, path: rel, via }, 'file already journaled by another node or source');
        return undefined;
      }
      const entry = recorded.file;
      if (recorded.refusal) return await this.quarantine(entry, recorded.refusal, via);
      this.deps.files.wake();
      this.log.info({ fileId: entry.id, account: account.id, path: rel, size: entry.size, sha256: entry.sha256, flux: entry.flux, via, client: entry.client?.address }, 'file received');
      return entry;
    } catch (err) {
      this.log.error({ account: accountId, path: absolutePath, err: (err as Error).message }, 'cannot take in the file');
      return undefined;
    } finally {
      this.inFlight.delete(absolutePath);
      this.lateClients.delete(absolutePath);
    }
  }

  /**
   * The file at `absolutePath` is an upload the journal holds already. Live: another source or
   * node is on it. Finished but still here: a crash came between its final transition and its
   * move (intake's refusal of a disabled account's file): the move is finished now. Finished and
   * elsewhere: the file was moved back (`mv` keeps the inode and mtime) and is left where it is,
   * with a warning once per process; processing it again is `fluxgate replay`'s job. (Unless the
   * file is still where its entry says, under both names: a stale cached view, nothing to say.)
   */
  private async alreadyJournaled(earlier: JournalFile, absolutePath: string, identity: string, via: string): Promise<undefined> {
    if (LIVE_STATES.includes(earlier.state)) return undefined;
    const context = { fileId: earlier.id, account: earlier.accountId, path: earlier.originalPath, state: earlier.state, via };
    if (earlier.location === absolutePath) {
      if (Date.now() - earlier.updatedAt < LEFT_BY_A_CRASH_MS) return undefined;
      // Its `rejected` event is written after the move: the crash came before both.
      if (earlier.state === 'rejected' && earlier.outcome) {
        await this.quarantine(earlier, earlier.outcome, via);
        return undefined;
      }
      const file = { ...earlier, flux: earlier.flux ?? UNMATCHED_FLUX };
      const processed = earlier.state === 'processed';
      const moved = await moveInput(this.deps.journal, file,
        processed ? archiveDestination(this.deps.paths, file) : quarantineDestination(this.deps.paths, file), processed ? 'archived' : 'quarantined');
      this.log.warn({ ...context, to: moved.location }, 'a finished file was still in the account tree (a crash came before its move): moved now');
      return undefined;
    }
    // The same file, with one link, where the entry says it is: this path is a stale view of it (another
    // node moved it and this node's NFS caches do not show it yet), not a file moved back (nor a hard link).
    const there = await stat(earlier.location, { bigint: true }).catch(() => undefined);
    if (there && there.nlink === 1n && uploadIdentity(there) === identity) return undefined;
    const key = `${absolutePath}\0${identity}`;
    if (this.warnedAlreadyJournaled.has(key)) return undefined;
    if (this.warnedAlreadyJournaled.size >= MAX_REMEMBERED) this.warnedAlreadyJournaled.clear();
    this.warnedAlreadyJournaled.add(key);
    this.log.warn({ ...context, code: 'FG_ALREADY_JOURNALED', location: earlier.location },
      `${earlier.originalPath} is the upload journaled as ${earlier.id} (${earlier.state}, now at ${earlier.location}), moved back into the account tree: `
      + `it is not taken in twice and stays where it is. To process it again, move it back to ${earlier.location} and run `
      + `\`fluxgate replay ${earlier.id}\`; or copy it (cp makes a new file, taken in as a new upload) and remove this one`);
    return undefined;
  }

  /**
   * A refused file leaves the account tree for its quarantine, with its journal row as the report.
   * (A crash between the row and the move leaves it in the tree: the next look moves it, alreadyJournaled.)
   */
  private async quarantine(entry: JournalFile, refusal: OutcomeSummary, via: string): Promise<JournalFile> {
    const file = { ...entry, flux: entry.flux ?? UNMATCHED_FLUX };
    const moved = await moveInput(this.deps.journal, entry, quarantineDestination(this.deps.paths, file), 'quarantined');
    await this.deps.journal.addEvent(entry.id, 'rejected', { ...refusal });
    this.log.warn({ fileId: entry.id, account: entry.accountId, path: entry.originalPath, size: entry.size, sha256: entry.sha256, code: refusal.code, via },
      `file refused: ${refusal.summary}`);
    return moved;
  }
}

/** Why a file of this account is refused (it is disabled, or gone), or undefined when it is taken. */
function disabledRefusal(account: Account | undefined, fileId: string): OutcomeSummary | undefined {
  if (account && account.enabled && !account.purgedAt) return undefined;
  const why = !account ? 'no longer exists' : `is disabled${account.disabledReason ? ` (${account.disabledReason})` : ''}`;
  return {
    result: 'rejected', code: 'FG_ACCOUNT_DISABLED',
    summary: `account "${account?.id ?? '?'}" ${why}: the file was not processed and is kept in quarantine; `
      + `once the account is enabled again, \`fluxgate replay ${fileId}\` processes it`,
  };
}
