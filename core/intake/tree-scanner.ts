import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXCHANGE_TREE } from '../accounts/account-tree';
import type { DataPaths } from '../config/paths';
import type { Logger } from '../logging/logger';
import type { AccountRef, AccountRepository } from '../store/ports/accounts';
import { isNeverTaken } from '../upload-names';
import type { Intake } from './intake';

/** The directories of a default exchange tree that intake takes files from. */
const DEFAULT_INTAKE_DIRS: readonly string[] = EXCHANGE_TREE.filter((d) => d === 'in' || d.startsWith('in/')).sort();

/**
 * A slice of the accounts is looked at every `period / accounts`, but no more often than
 * MIN_TICK_MS (many accounts: bigger slices) and no less often than MAX_TICK_MS (few accounts,
 * or none yet: one account per tick), except that with fewer than five accounts the ticks are
 * MIN_REREAD_MS shared among them (an account is not read more often anyway). Few accounts
 * therefore do not wake the process four times a second for one look each (bench:scale, CPU at
 * rest), and a file dropped into one of ten accounts is still found within ~10 s, not only
 * within the period.
 */
const MIN_TICK_MS = 250;
const MAX_TICK_MS = 1000;
/** A file modified less than this long ago may still be being written (`cp` writes in place): it is looked at again this much later. */
const SETTLED_MS = 1000;
/**
 * A directory modified this recently may change again within the same tick of the file
 * system's clock (coarse kernel clock, or 1-second mtimes on some mounts) without its mtime
 * changing: it is read again at the next look rather than trusted.
 */
const RECENT_MS = 2000;
/** Every this many passes, every directory is read whatever its mtime (file systems that do not keep directory mtimes, e.g. some network mounts). */
const READ_ALL_EVERY = 10;
/**
 * A tree is read at most this often by the rotation (or once per period if that is shorter): with
 * few accounts each is looked at every tick, and a tree holding a burst's thousand waiting files
 * would otherwise be read, and each file checked against the journal, four times a second.
 */
const MIN_REREAD_MS = 5000;
/** Accounts per slice of the start-up pass; the event loop runs between slices. */
const START_SLICE = 50;

const STAT_OPTIONS = { throwIfNoEntry: false } as const;

/** What the last read of an account's tree found. */
interface TreeState {
  /** Sum of its directories' mtimes then; NaN: read it again; -1: no tree. */
  signature: number;
  /** Its directories, account-relative ('' is a drop-box root). */
  dirs: readonly string[];
  /** Files were there (taken or not yet): read it at every look until it is empty. */
  holdsFiles: boolean;
  /** When it was read (Date.now()). */
  readAt: number;
}

/**
 * Finds files dropped into account trees by other means than the SFTP server (which announces
 * its uploads), and what arrived while the server was down or a crash left un-journaled.
 *
 * Its cost does not grow with what idle accounts hold, only with their number, and stays small:
 * every account is looked at once per `periodMs`, a slice per tick, walking the accounts table
 * in id order (new accounts are met on the way, none is held in memory but a few numbers). A
 * look at an idle tree is one stat per directory: it is read (readdir) only when the sum of its
 * directories' mtimes changed since it was last read, when it held files, or every
 * READ_ALL_EVERY passes, and by the rotation at most once per MIN_REREAD_MS. At start every tree is read once, in slices, without holding up the
 * start.
 */
export class TreeScanner {
  private readonly log: Logger;
  private readonly trees = new Map<string, TreeState>();
  private readonly seenThisPass = new Set<string>();
  private readonly lookSoon = new Map<string, NodeJS.Timeout>();
  private cursor = '';
  private passes = 0;
  private accountCount = 0;
  private passStartedAt = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly intake: Intake,
    private readonly paths: DataPaths,
    private readonly accounts: Pick<AccountRepository, 'pageAfter' | 'countLive'>,
    private readonly periodMs: number,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'intake' });
  }

  /** Starts the start-up pass in the background, then the rotation; resolves when that pass is done. */
  start(): Promise<void> {
    const pass = this.startPass()
      .catch((err: unknown) => this.log.error({ err }, 'intake: the start-up scan failed (the rotation goes on)'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.scheduleTick();
      });
    this.running = pass;
    return pass;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.lookSoon.values()) clearTimeout(t);
    await this.running;
  }

  /**
   * Reads the account's tree now (a watcher saw a new directory or account), whatever its
   * mtimes say; resolves with the number of files taken.
   */
  async readNow(account: AccountRef): Promise<number> {
    return this.stopped ? 0 : this.look(account, true);
  }

  private async startPass(): Promise<void> {
    const started = Date.now();
    let cursor = '';
    let found = 0;
    let accounts = 0;
    for (;;) {
      const page = await this.accounts.pageAfter(cursor, START_SLICE);
      for (const account of page) {
        if (this.stopped) return;
        found += await this.look(account, true);
      }
      accounts += page.length;
      if (page.length < START_SLICE) break;
      cursor = page[page.length - 1].id;
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.accountCount = accounts;
    this.log.info({ accounts, found, ms: Date.now() - started, periodSeconds: this.periodMs / 1000 }, 'intake: start-up scan of every account tree done');
  }

  /**
   * Time between two slices for the current account count. Never shorter than an account's
   * reread interval shared among the accounts: with one account (or none) a tick every second
   * would find it read less than MIN_REREAD_MS ago four times out of five, and only wake the
   * process.
   */
  private get tickMs(): number {
    const accounts = Math.max(1, this.accountCount);
    const rotation = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, this.periodMs / accounts));
    return Math.max(rotation, Math.min(MIN_REREAD_MS, this.periodMs) / accounts);
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running) return this.scheduleTick();
    this.running = this.lookAtSlice()
      .catch((err: unknown) => this.log.error({ err }, 'intake: the tree scan failed (tried again at the next tick)'))
      .finally(() => { this.running = undefined; this.scheduleTick(); });
  }

  /** The next accounts in id order, as many as make one pass per period; wraps around at the end. */
  private async lookAtSlice(): Promise<void> {
    if (this.cursor === '') this.passStartedAt = Date.now();
    // A pass longer than the period: accounts were added since they were counted (an import of
    // thousands into a server that had a few); counted again, the slices grow to match.
    else if (Date.now() - this.passStartedAt > this.periodMs) this.accountCount = await this.accounts.countLive();
    const slice = Math.max(1, Math.ceil((this.accountCount * this.tickMs) / this.periodMs));
    const page = await this.accounts.pageAfter(this.cursor, slice);
    const readAll = this.passes % READ_ALL_EVERY === READ_ALL_EVERY - 1;
    for (const account of page) {
      if (this.stopped) return;
      this.seenThisPass.add(account.id);
      await this.look(account, readAll);
    }
    if (page.length === slice) {
      this.cursor = page[page.length - 1].id;
      return;
    }
    // End of a pass: forget removed accounts, count again for the next one.
    for (const id of this.trees.keys()) if (!this.seenThisPass.has(id)) this.trees.delete(id);
    this.seenThisPass.clear();
    this.cursor = '';
    this.passes++;
    this.accountCount = await this.accounts.countLive();
  }

  /** Looks at one account's tree, reading it when needed; resolves with the number of files taken. */
  private async look(account: AccountRef, read: boolean): Promise<number> {
    const root = this.paths.accountRoot(account.id);
    const known = this.trees.get(account.id);
    if (!read && known) {
      if (Date.now() - known.readAt < Math.min(MIN_REREAD_MS, this.periodMs)) return 0;
      if (!known.holdsFiles && signature(root, known.dirs) === known.signature) return 0;
    }
    const readAt = Date.now();
    const tree = readTree(root, account.profile === 'exchange');
    const dirs = sameList(tree.dirs, DEFAULT_INTAKE_DIRS) ? DEFAULT_INTAKE_DIRS : tree.dirs;
    this.trees.set(account.id, { signature: tree.signature, dirs, holdsFiles: tree.files.length > 0, readAt });
    let taken = 0;
    for (const file of tree.files) {
      if (await this.intake.isTaken(file)) continue;
      const mtime = statSync(file, { throwIfNoEntry: false })?.mtimeMs;
      if (mtime === undefined) continue;
      if (Date.now() - mtime < SETTLED_MS) {
        this.lookAgainSoon(account);
        continue;
      }
      if (await this.intake.consider(account.id, file, 'scan')) taken++;
    }
    return taken;
  }

  private lookAgainSoon(account: AccountRef): void {
    if (this.lookSoon.has(account.id) || this.stopped) return;
    const timer = setTimeout(() => {
      this.lookSoon.delete(account.id);
      if (!this.stopped) this.look(account, true).catch((err: unknown) => this.log.error({ err, account: account.id }, 'intake: cannot read the account tree'));
    }, SETTLED_MS);
    timer.unref();
    this.lookSoon.set(account.id, timer);
  }
}

/**
 * Sum of the directories' mtimes (one stat each): -1 when the first (the tree's base) is
 * missing, NaN when another is missing or one changed too recently to be trusted.
 */
function signature(root: string, dirs: readonly string[]): number {
  const recent = Date.now() - RECENT_MS;
  let sum = 0;
  for (let i = 0; i < dirs.length; i++) {
    // Concatenated, not join()ed: both parts are already normal, and this runs 13 times a look.
    const stat = statSync(dirs[i] ? `${root}/${dirs[i]}` : root, STAT_OPTIONS);
    if (!stat?.isDirectory()) return i === 0 ? -1 : NaN;
    if (stat.mtimeMs > recent) return NaN;
    sum += stat.mtimeMs;
  }
  return sum;
}

/**
 * Every directory and candidate file (not hidden, not partial) of an exchange account's in/
 * tree, or of a drop-box root (its own files only), with the signature of what was read: each
 * directory is stat'ed before it is read, so a change during the read shows at the next look.
 * Directories sorted: the base ('in', or '' for a drop-box root) sorts first.
 */
function readTree(root: string, exchange: boolean): { dirs: string[]; files: string[]; signature: number } {
  const mtimes = new Map<string, number>();
  const files: string[] = [];
  const base = exchange ? 'in' : '';
  let vanished = false;
  const walk = (rel: string): void => {
    const abs = rel ? join(root, rel) : root;
    const stat = statSync(abs, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) { vanished = true; return; }
    mtimes.set(rel, stat.mtimeMs);
    let entries;
    try { entries = readdirSync(abs, { withFileTypes: true }); } catch { vanished = true; return; }
    for (const entry of entries) {
      if (isNeverTaken(entry.name)) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) { if (exchange) walk(child); } else if (entry.isFile()) files.push(join(root, child));
    }
  };
  walk(base);
  if (!mtimes.has(base)) return { dirs: [base], files, signature: -1 };
  // Summed in the order signature() will (sorted, the base first): the same numbers give the same sum.
  const dirs = [...mtimes.keys()].sort();
  const recent = Date.now() - RECENT_MS;
  let sum = vanished ? NaN : 0;
  for (const dir of dirs) sum += mtimes.get(dir)! > recent ? NaN : mtimes.get(dir)!;
  return { dirs, files, signature: sum };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
