import { lstat, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { JobContext } from '../cron/job';
import type { Logger } from '../logging/logger';
import type { Tombstone, TombstoneRepository } from '../store/ports/jobs';
import { inodeOf, sha256File } from './file-hash';

export interface DeletionTarget {
  accountId: string;
  /** Absolute path. */
  path: string;
  rule: string;
  /** The journal row this file is (or belongs to), if any. */
  fileId?: string | null;
  /** Known from the journal: spares re-reading the file when the size still matches. */
  known?: { size: number; sha256: string };
  detail?: Record<string, unknown>;
}

export type DeletionResult = 'deleted' | 'missing';

/**
 * Deletes files so that every deletion leaves exactly one tombstone, even across crashes:
 *   1. tombstone written `pending` (with the file's inode) in a transaction;
 *   2. unlink;
 *   3. tombstone confirmed and the journal row marked `deleted` in a transaction.
 * `reconcile()` finishes what a crash interrupted: it unlinks the file if it is still the same
 * inode (never a newer file at that path) and confirms, so nothing is deleted twice.
 */
export class FileDeleter {
  private readonly logger: Logger;

  constructor(private readonly tombstones: TombstoneRepository, logger: Logger) {
    this.logger = logger.child({ component: 'retention' });
  }

  async delete(target: DeletionTarget, asOf: number): Promise<DeletionResult> {
    const st = await lstat(target.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!st) {
      // Already gone (deleted by hand, or by a client): the journal still learns it is gone.
      if (target.fileId) {
        const t = await this.tombstones.intend({
          fileId: target.fileId, accountId: target.accountId, path: target.path, name: basename(target.path),
          size: target.known?.size ?? null, sha256: target.known?.sha256 ?? null, rule: target.rule,
          deletedAt: Date.now(), asOf, inode: null, detail: { ...target.detail, alreadyMissing: true },
        });
        await this.tombstones.confirm(t.id);
      }
      return 'missing';
    }
    const sha256 = st.isFile()
      ? (target.known && target.known.size === st.size ? target.known.sha256 : await sha256File(target.path))
      : null;
    const t = await this.tombstones.intend({
      fileId: target.fileId ?? null, accountId: target.accountId, path: target.path, name: basename(target.path),
      size: st.isFile() ? st.size : null, sha256, rule: target.rule, deletedAt: Date.now(), asOf,
      inode: inodeOf(st), detail: target.detail ?? {},
    });
    try {
      await unlink(target.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // Known not deleted: withdraw the intent, the next run decides again.
        await this.tombstones.discard(t.id);
        throw err;
      }
    }
    await this.tombstones.confirm(t.id);
    return 'deleted';
  }

  /** Deletions a crash left pending (what `reconcile` would complete). */
  pending(): Promise<Tombstone[]> {
    return this.tombstones.pending();
  }

  /** Completes deletions a crash left pending; returns how many were completed. */
  async reconcile(onError: (path: string, err: unknown) => void): Promise<number> {
    let done = 0;
    for (const t of await this.tombstones.pending()) {
      try {
        await this.reconcileOne(t);
        done++;
      } catch (err) {
        onError(t.path, err);
      }
    }
    return done;
  }

  private async reconcileOne(t: Tombstone): Promise<void> {
    const st = await lstat(t.path).catch(() => undefined);
    if (st && t.inode && inodeOf(st) === t.inode) {
      await unlink(t.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await this.tombstones.confirm(t.id, { reconciled: true });
    } else {
      // Gone already (the crash came after the unlink), or replaced by a newer file we must keep.
      await this.tombstones.confirm(t.id, { reconciled: true, ...(st ? { replacedByNewerFile: true } : {}) });
    }
    this.logger.warn({ path: t.path, rule: t.rule, tombstone: t.id }, 'completed a deletion interrupted by a crash');
  }
}

/** First step of every deleting job: finish what a crash interrupted (under dry-run, list it). */
export async function reconcilePending(deleter: FileDeleter, ctx: JobContext): Promise<void> {
  if (ctx.dryRun) {
    for (const t of await deleter.pending()) {
      ctx.record({ action: 'complete-deletion', target: t.path, account: t.accountId, rule: t.rule, since: t.deletedAt });
    }
    return;
  }
  const reconciled = await deleter.reconcile((path, err) => ctx.fail(path, err));
  if (reconciled > 0) ctx.counts.add('reconciled', reconciled);
}
