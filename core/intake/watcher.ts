import { mkdirSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { DataPaths } from '../config/paths';
import type { Logger } from '../logging/logger';
import type { AccountRef, AccountRepository } from '../store/ports/accounts';
import { isNeverTaken } from '../upload-names';
import type { Intake } from './intake';
import type { TreeScanner } from './tree-scanner';

/** How often the watched accounts are looked up again, to watch those added since. */
const ACCOUNT_REFRESH_MS = 5_000;
/** A new directory in a watched tree is read this long after it appears (see onAddDir). */
const NEW_DIRECTORY_READ_MS = 1_000;
/** How long a file must be unchanged before the watcher reports it (chokidar's awaitWriteFinish). */
const SETTLED_MS = 200;

/**
 * chokidar over the trees of the accounts `engine.watch` names (`true`: every account), for
 * files written there by other means than the SFTP server, taken within a second. Costs one
 * inotify watch per directory watched (and per file waiting in it: chokidar 5), which is why
 * only the accounts that need it are watched; the others rely on the TreeScanner.
 */
export class AccountWatcher {
  private readonly log: Logger;
  private readonly watched = new Set<string>();
  private treeWatcher?: FSWatcher;
  private rootWatcher?: FSWatcher;
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    private readonly intake: Intake,
    private readonly scanner: TreeScanner,
    private readonly paths: DataPaths,
    private readonly accounts: Pick<AccountRepository, 'list' | 'get'>,
    /** `true`: every account; else these account ids. */
    private readonly selection: true | readonly string[],
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'intake' });
  }

  /** Resolves once the existing trees are watched: a file written after that is reported. */
  async start(): Promise<void> {
    const accounts = await this.selected();
    for (const a of accounts) this.watched.add(a.id);
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
    if (this.selection === true) {
      // chokidar watches the parent of a path that does not exist yet, and keeps watching it: that
      // parent is the data directory, where every SQLite commit then made it list the directory
      // again (hundreds of lstat calls a second while a big file was applied).
      mkdirSync(this.paths.sftpRoot, { recursive: true, mode: 0o750 });
      this.rootWatcher = watch(this.paths.sftpRoot, { ignoreInitial: true, depth: 0 });
      this.rootWatcher.on('addDir', () => this.refreshAccounts());
      this.rootWatcher.on('error', (err) => this.log.error({ err: (err as Error).message }, 'watcher error'));
    }
    this.refreshTimer = setInterval(() => this.refreshAccounts(), ACCOUNT_REFRESH_MS);
    this.refreshTimer.unref();
    this.log.info({ accounts: this.watched.size, selection: this.selection === true ? 'all' : this.selection }, 'intake: watching account trees');
  }

  async stop(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await Promise.all([this.treeWatcher?.close(), this.rootWatcher?.close()]);
  }

  private async selected(): Promise<AccountRef[]> {
    if (this.selection === true) return (await this.accounts.list()).filter((a) => !a.purgedAt);
    const found = await Promise.all(this.selection.map((id) => this.accounts.get(id)));
    return found.filter((a) => a !== undefined && !a.purgedAt) as AccountRef[];
  }

  /** Watches selected accounts not watched yet (added while running); their trees are read once. */
  private refreshAccounts(): void {
    if (this.selection !== true && this.watched.size === this.selection.length) return;
    this.selected().then((accounts) => this.watchNew(accounts), (err: unknown) => this.log.error({ err }, 'intake: cannot read the accounts to watch (tried again later)'));
  }

  private watchNew(accounts: AccountRef[]): void {
    for (const account of accounts) {
      if (this.watched.has(account.id)) continue;
      this.watched.add(account.id);
      // Drop-box: only the root's own files count; the watcher's depth is global, so Intake filters.
      this.treeWatcher?.add(this.watchTarget(account));
      // The watch is being set up asynchronously: read the tree now and once more shortly after.
      this.readSoon(account, 0);
      this.readSoon(account, NEW_DIRECTORY_READ_MS);
    }
  }

  private watchTarget(account: AccountRef): string {
    const root = this.paths.accountRoot(account.id);
    return account.profile === 'exchange' ? join(root, 'in') : root;
  }

  private onAdd(path: string): void {
    const accountId = this.accountOf(path);
    if (accountId) void this.intake.consider(accountId, path, 'watcher');
  }

  /**
   * chokidar reports no file written in a new directory before its watch on it exists (a
   * program that makes a directory and writes into it at once; chokidar issue #1471): the
   * tree is read a second after the directory appears instead of at the scan's next pass.
   */
  private onAddDir(path: string): void {
    this.accounts.get(this.accountOf(path) ?? '').then((account) => {
      if (account && !account.purgedAt) this.readSoon(account, NEW_DIRECTORY_READ_MS);
    }, (err: unknown) => this.log.error({ err, path }, 'intake: cannot read the account of a new directory'));
  }

  private readSoon(account: AccountRef, delayMs: number): void {
    setTimeout(() => {
      this.scanner.readNow(account).catch((err: unknown) => this.log.error({ err, account: account.id }, 'intake: cannot read the account tree'));
    }, delayMs).unref();
  }

  private accountOf(path: string): string | undefined {
    return relative(this.paths.sftpRoot, path).split(sep)[0] || undefined;
  }
}
