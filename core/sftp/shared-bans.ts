import type { Logger } from '../logging/logger';
import type { Ban, BanRepository } from '../store/ports/bans';
import type { BanBook } from './brute-force';

/** How often each node reads the store's active bans: another node's ban, or a lift, holds here within this. */
export const BAN_REFRESH_MS = 1000;
/** How often ended bans are deleted from the store (any node may; deleting twice is harmless). */
const PURGE_EVERY_MS = 10 * 60_000;
/** How long a stop waits for bans not yet written to the store. */
const STOP_WAIT_MS = 5000;

/** A ban this node made, until a read of the store that began after it was written has seen it. */
interface LocalBan {
  ban: Ban;
  /** The number of refreshes begun when the store confirmed the write (undefined: not written yet): later ones saw it. */
  writtenAfter?: number;
  writing: boolean;
}

/**
 * The SFTP server's bans, in the store and shared by every node (issue #20). A connection's ban
 * check reads a copy in memory, never the store: the copy is refreshed from the store's active
 * bans every BAN_REFRESH_MS, so another node's ban, or `fluxgate bans remove`, holds here within
 * that (plus the read's own time). A ban made here holds here at once and is written to the
 * store in the background; until a refresh that began after that write has read the store, it
 * is kept on top of what the store says (so a refresh already under way cannot drop it), and a
 * failed write is tried again at each refresh while the ban lasts.
 */
export class SharedBans implements BanBook {
  private copy = new Map<string, number>();
  private readonly local = new Map<string, LocalBan>();
  private refreshes = 0;
  private refreshing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private lastPurge = 0;
  private failing = false;
  /** Writes to the store under way (a stop waits for them). */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly repository: BanRepository,
    /** This node's id (cluster.nodeId), recorded with its bans; undefined until the server listens. */
    private readonly nodeId: () => string | undefined,
    private readonly log: Logger,
    private readonly refreshMs = BAN_REFRESH_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads the store's bans once (before the server accepts connections), then every refreshMs. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => { void this.refresh(); }, this.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A ban made just before a stop must survive it: writes under way are waited for, failed ones
    // tried once more. A store that hangs must not hold the stop, though.
    const flushed = (async () => {
      await this.refreshing;
      for (const local of this.local.values()) if (local.writtenAfter === undefined && !local.writing) void this.write(local);
      await Promise.all(this.writes);
    })();
    await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
  }

  until(address: string): number | undefined {
    const until = this.copy.get(address);
    return until !== undefined && until > this.now() ? until : undefined;
  }

  add(address: string, until: number, user: string): void {
    const ban: Ban = { address, bannedAt: this.now(), until, user, nodeId: this.nodeId() ?? null };
    this.copy.set(address, Math.max(until, this.copy.get(address) ?? 0));
    const local: LocalBan = { ban, writing: false };
    this.local.set(address, local);
    void this.write(local);
  }

  /** Reads the store's active bans into the copy; one at a time (a slow store skips ticks rather than piling reads up). */
  refresh(): Promise<void> {
    this.refreshing ??= this.readStore().finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  private async readStore(): Promise<void> {
    const started = ++this.refreshes;
    const now = this.now();
    let rows: Ban[];
    try {
      rows = await this.repository.active(now);
    } catch (err) {
      // The copy stays as it was: bans known hold, new ones from other nodes wait for the store.
      if (!this.failing) this.log.error({ err }, 'cannot read the brute-force bans from the store: other nodes\' bans and lifts wait until it answers');
      this.failing = true;
      return;
    }
    if (this.failing) this.log.info('brute-force bans read from the store again');
    this.failing = false;
    const copy = new Map(rows.map((b) => [b.address, b.until]));
    for (const [address, local] of this.local) {
      if (local.ban.until <= now) this.local.delete(address);
      // Written before this read began: the store's answer includes it, or it was lifted since.
      else if (local.writtenAfter !== undefined && local.writtenAfter < started) this.local.delete(address);
      else {
        copy.set(address, Math.max(local.ban.until, copy.get(address) ?? 0));
        if (local.writtenAfter === undefined && !local.writing) void this.write(local);
      }
    }
    this.copy = copy;
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.repository.purgeEnded(now).catch((err: unknown) => this.log.warn({ err }, 'cannot delete ended brute-force bans from the store'));
    }
  }

  private write(local: LocalBan): Promise<void> {
    const writing = this.writeOnce(local).finally(() => this.writes.delete(writing));
    this.writes.add(writing);
    return writing;
  }

  private async writeOnce(local: LocalBan): Promise<void> {
    local.writing = true;
    try {
      await this.repository.ban(local.ban);
      // A refresh under way may have read before this write: only those begun after it are trusted to include it.
      local.writtenAfter = this.refreshes;
    } catch (err) {
      this.log.error({ err, address: local.ban.address, until: new Date(local.ban.until).toISOString() },
        'cannot write the brute-force ban to the store: it holds on this node, and is written again at the next refresh');
    } finally {
      local.writing = false;
    }
  }
}
