import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import type { Job, JobContext } from '../cron/job';
import type { Account, AccountRepository } from '../store/ports/accounts';
import type { RetentionRepository, SeenFile } from '../store/ports/jobs';
import { reconcilePending, type DeletionTarget, type FileDeleter } from './deleter';
import { inodeOf } from './file-hash';
import { isExpired, retentionPeriods, type RetentionPeriods, type RetentionRule } from './rules';
import { classify, walkFiles, type TreeFile } from './tree-scan';

/**
 * Deletes what has outlived its retention period, leaving a tombstone for each file.
 * Clocks come from the journal (received/processed), the engine's outputs table (a report's
 * last write), or the first-seen registry; never from mtimes a client could set.
 */
export class RetentionJob implements Job {
  readonly name = 'retention' as const;
  readonly description = 'deletes archived, quarantined and unmatched inputs, old reports and stale partial uploads';
  private readonly periods: RetentionPeriods;

  constructor(
    config: FluxgateConfig,
    private readonly paths: DataPaths,
    private readonly accounts: AccountRepository,
    private readonly repo: RetentionRepository,
    private readonly deleter: FileDeleter,
  ) {
    this.periods = retentionPeriods(config);
  }

  async run(ctx: JobContext): Promise<void> {
    await reconcilePending(this.deleter, ctx);
    await this.journalPass(ctx);
    for (const account of await this.accounts.list()) {
      if (ctx.signal.aborted) return;
      if (account.purgedAt !== null) continue;
      try {
        await this.scanAccount(account, ctx);
      } catch (err) {
        ctx.fail(`account ${account.id}`, err);
      }
    }
  }

  /** Inputs the engine is done with, by their journal times. */
  private async journalPass(ctx: JobContext): Promise<void> {
    const p = this.periods;
    const rows = this.repo.finishedInputs({
      processedBefore: ctx.asOf - p.archive,
      receivedBefore: ctx.asOf - Math.min(p.quarantine, p.unmatched),
    });
    // Page by page (a first run on a long journal may find most of it expired).
    for await (const row of rows) {
      if (ctx.signal.aborted) return;
      let rule: RetentionRule;
      let since: number;
      if (row.state === 'processed') {
        rule = 'archive';
        since = row.processedAt ?? row.receivedAt;
      } else {
        // Rejected or dead: quarantined, or still in the account tree when nothing could take it.
        rule = row.location.startsWith(this.paths.accountRoot(row.accountId) + '/') ? 'unmatched' : 'quarantine';
        since = row.receivedAt;
      }
      ctx.counts.add('checked');
      if (!isExpired(this.periods, rule, since, ctx.asOf)) continue;
      await this.remove(ctx, {
        accountId: row.accountId, path: row.location, rule, fileId: row.fileId,
        known: { size: row.size, sha256: row.sha256 }, detail: { state: row.state },
      }, since, row.size);
    }
  }

  private async scanAccount(account: Account, ctx: JobContext): Promise<void> {
    const root = this.paths.accountRoot(account.id);
    // Looked up per file found (indexed): the tree holds few files, the account's history many.
    const journalAt = (location: string) => this.repo.journalRowAt(location);
    const outputAt = (path: string) => this.repo.latestOutput(account.id, path);
    const seen = await this.repo.seen(account.id);
    const seenNow: SeenFile[] = [];
    const now = Date.now();
    let complete = true;
    for await (const file of walkFiles(root)) {
      if (ctx.signal.aborted) { complete = false; break; }
      const c = await classify({ file, profile: account.profile, journalAt, outputAt });
      if (c.kind === 'skip') continue;
      ctx.counts.add('checked');
      let since = c.since;
      let registryEntry: SeenFile | undefined;
      if (since === undefined) {
        registryEntry = { path: file.abs, accountId: account.id, inode: inodeOf(file.st), firstSeenAt: firstSeen(file, seen.get(file.abs), now) };
        since = registryEntry.firstSeenAt;
      }
      if (!isExpired(this.periods, c.rule, since, ctx.asOf)) {
        if (registryEntry) seenNow.push(registryEntry);
        continue;
      }
      const removed = await this.remove(ctx, {
        accountId: account.id, path: file.abs, rule: c.rule, fileId: c.fileId ?? null, detail: { rel: file.rel },
      }, since, file.st.size);
      if (!removed && registryEntry) seenNow.push(registryEntry);
    }
    // An interrupted scan must not forget files it did not reach.
    if (!ctx.dryRun && complete) await this.repo.replaceSeen(account.id, seenNow, now);
  }

  /** Deletes one file (or says it would); false when it is still there afterwards. */
  private async remove(ctx: JobContext, target: DeletionTarget, since: number, size: number): Promise<boolean> {
    const action = { action: 'delete', target: target.path, account: target.accountId, rule: target.rule, since, detail: { size, ...target.detail } };
    if (ctx.dryRun) {
      ctx.record(action);
      ctx.counts.add(`delete:${target.rule}`);
      return false;
    }
    try {
      const result = await this.deleter.delete(target, ctx.asOf);
      if (result === 'deleted') {
        ctx.record(action);
        ctx.counts.add(`delete:${target.rule}`);
        ctx.counts.add('bytes', size);
      } else {
        ctx.record({ ...action, action: 'forget', detail: { ...action.detail, alreadyMissing: true } });
      }
      return true;
    } catch (err) {
      ctx.fail(target.path, err);
      return false;
    }
  }
}

/**
 * When fluxgate first saw the file: the registry's time if it is the same file (same inode),
 * else the earliest of now, its ctime and its birth time. A client can move a file's ctime
 * forward (any change) but never back, so the file never looks older than it is.
 */
function firstSeen(file: TreeFile, known: SeenFile | undefined, now: number): number {
  if (known && known.inode === inodeOf(file.st)) return known.firstSeenAt;
  const birth = file.st.birthtimeMs > 0 ? file.st.birthtimeMs : Infinity;
  return Math.floor(Math.min(now, file.st.ctimeMs, birth));
}
