import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { DataPaths } from '../config/paths';
import type { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import type { Account, AccountRepository } from '../store/accounts-repository';
import type { Service } from '../tokens';
import { isNeverTaken } from '../upload-names';
import type { Intake } from './intake';

/** How often the account list is re-read to start watching accounts added by the CLI. */
const ACCOUNT_REFRESH_MS = 5_000;
/**
 * Safety net: a full scan this often. chokidar establishes a new watch asynchronously, so a file
 * created in a new account's tree before its watch exists would otherwise wait for a restart.
 */
const RESCAN_MS = 30_000;
/** A new directory in a watched tree is scanned this long after it appears (see onAddDir). */
const NEW_DIRECTORY_SCAN_MS = 1_000;
/** How long a file must be unchanged to be taken by that scan: the watcher's awaitWriteFinish threshold. */
const SETTLED_MS = 200;

/**
 * Feeds Intake from three sources: the SFTP server's in-process announcements (instant), a
 * chokidar watcher over every account's in/ tree (drop-box: its root) for files written by
 * other means, and a scan at start-up for files that arrived while the server was down.
 */
export class IntakeWatcher implements Service {
  readonly name = 'intake';
  private readonly log: Logger;
  private readonly watched = new Set<string>();
  private treeWatcher?: FSWatcher;
  private rootWatcher?: FSWatcher;
  private unsubscribe?: () => void;
  private refreshTimer?: NodeJS.Timeout;
  private rescanTimer?: NodeJS.Timeout;

  constructor(
    private readonly intake: Intake,
    private readonly paths: DataPaths,
    private readonly accounts: AccountRepository,
    private readonly uploads: UploadEvents,
    private readonly useWatcher: boolean,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'intake' });
  }

  async start(): Promise<void> {
    this.unsubscribe = this.uploads.onCompleted((u) => { void this.intake.consider(u.accountId, u.absolutePath, 'sftp'); });
    const accounts = this.accounts.list().filter((a) => !a.purgedAt);
    for (const a of accounts) this.watched.add(a.id);
    if (this.useWatcher) {
      // Watch the existing trees and wait until the watches exist, then scan: a file is either
      // there before the scan (found by it) or arrives after (seen by the watcher).
      this.treeWatcher = watch(accounts.map((a) => this.watchTarget(a)), {
        ignoreInitial: true,
        // Files written in place by a co-located server settle before being taken; SFTP uploads are announced at once.
        awaitWriteFinish: { stabilityThreshold: SETTLED_MS, pollInterval: 50 },
        ignored: (path) => isNeverTaken(basename(path)),
      });
      this.treeWatcher.on('add', (path) => this.onAdd(path));
      this.treeWatcher.on('addDir', (path) => this.onAddDir(path));
      this.treeWatcher.on('error', (err) => this.log.error({ err: (err as Error).message }, 'watcher error'));
      // chokidar never reports ready for an empty path list.
      if (accounts.length > 0) await new Promise<void>((resolve) => this.treeWatcher!.once('ready', () => resolve()));
      // chokidar watches the parent of a path that does not exist yet, and keeps watching it: that
      // parent is the data directory, where every SQLite commit then made it list the directory
      // again (hundreds of lstat calls a second while a big file was applied).
      mkdirSync(this.paths.sftpRoot, { recursive: true, mode: 0o750 });
      this.rootWatcher = watch(this.paths.sftpRoot, { ignoreInitial: true, depth: 0 });
      this.rootWatcher.on('addDir', () => this.refreshAccounts());
      this.rootWatcher.on('error', (err) => this.log.error({ err: (err as Error).message }, 'watcher error'));
    }
    const found = await this.scanAll();
    this.refreshTimer = setInterval(() => this.refreshAccounts(), ACCOUNT_REFRESH_MS);
    this.refreshTimer.unref();
    this.rescanTimer = setInterval(() => { void this.scanAll(); }, RESCAN_MS);
    this.rescanTimer.unref();
    this.log.info({ accounts: this.watched.size, found, watching: this.useWatcher }, 'intake started');
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    await Promise.all([this.treeWatcher?.close(), this.rootWatcher?.close()]);
  }

  /** Watches accounts not watched yet (added while running); new trees are scanned once. */
  private refreshAccounts(): void {
    for (const account of this.accounts.list()) {
      if (this.watched.has(account.id) || account.purgedAt) continue;
      this.watched.add(account.id);
      const target = this.watchTarget(account);
      // Drop-box: only the root's own files count; the watcher's depth is global, so Intake filters.
      this.treeWatcher?.add(target);
      // The watch is being set up asynchronously: scan now and once more shortly after.
      void this.scanAccount(account);
      setTimeout(() => { void this.scanAccount(account); }, 1000).unref();
    }
  }

  private watchTarget(account: Account): string {
    const root = this.paths.accountRoot(account.id);
    return account.profile === 'exchange' ? join(root, 'in') : root;
  }

  private onAdd(path: string): void {
    const accountId = this.accountOf(path);
    if (accountId) void this.intake.consider(accountId, path, 'watcher');
  }

  /**
   * chokidar reports no file written in a new directory before its watch on it exists (a
   * program that makes a directory and writes into it at once): the directory is scanned a
   * second after it appears instead of at the next full scan. Only files unchanged for
   * SETTLED_MS are taken then, as the watcher would (one still being written is left to it).
   */
  private onAddDir(path: string): void {
    const account = this.accounts.get(this.accountOf(path) ?? '');
    if (!account || account.purgedAt) return;
    setTimeout(() => { void this.scanAccount(account, path, SETTLED_MS); }, NEW_DIRECTORY_SCAN_MS).unref();
  }

  private accountOf(path: string): string | undefined {
    return relative(this.paths.sftpRoot, path).split(sep)[0] || undefined;
  }

  private async scanAll(): Promise<number> {
    let found = 0;
    for (const account of this.accounts.list()) if (!account.purgedAt) found += await this.scanAccount(account);
    return found;
  }

  /**
   * Considers every file of the account's tree, or of `dir` within it; with `settledMs`, only
   * files not modified for that long.
   */
  private async scanAccount(account: Account, dir = this.watchTarget(account), settledMs = 0): Promise<number> {
    let found = 0;
    const settled = (p: string) => {
      try { return Date.now() - statSync(p).mtimeMs >= settledMs; } catch { return false; }
    };
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        if (isNeverTaken(e.name)) continue;
        const p = join(dir, e.name);
        if (e.isDirectory() && account.profile === 'exchange') await walk(p);
        else if (e.isFile() && (settledMs === 0 || settled(p)) && (await this.intake.consider(account.id, p, 'scan'))) found++;
      }
    };
    await walk(dir);
    return found;
  }
}
