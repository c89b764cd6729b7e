import type { DataPaths } from '../../config/paths';
import type { FluxgateConfig } from '../../config/schema';
import { DAY_MS, type Job, type JobContext } from '../../cron/job';
import { reconcilePending, type FileDeleter } from '../../retention/deleter';
import type { Account, AccountRepository } from '../../store/ports/accounts';
import type { InactivityRepository, RetentionRepository } from '../../store/ports/jobs';
import { countPurge, purgeAccount } from './purge';

export const INACTIVITY_REASON = 'no successful login for too long (account-inactivity job)';

/**
 * Accounts with no successful login for `accounts.inactivityDisableDays` (default 12 months)
 * are disabled; an operator may re-enable them (`account enable`) and the job leaves them
 * enabled; once inactive for `inactivityDisableDays + purgeAfterDisabledDays` (18 months)
 * they are purged, unless `accounts.purge` is false. Inactivity counts from the last login,
 * or from creation for an account that never logged in.
 */
export class AccountInactivityJob implements Job {
  readonly name = 'account-inactivity' as const;
  readonly description = 'disables accounts unused for 12 months, purges them after 18';

  constructor(
    private readonly config: FluxgateConfig,
    private readonly paths: DataPaths,
    private readonly accounts: AccountRepository,
    private readonly marks: InactivityRepository,
    private readonly retention: RetentionRepository,
    private readonly deleter: FileDeleter,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    await reconcilePending(this.deleter, ctx);
    for (const account of await this.accounts.list()) {
      if (ctx.signal.aborted) return;
      if (account.purgedAt !== null) continue;
      ctx.counts.add('checked');
      try {
        await this.evaluate(account, ctx);
      } catch (err) {
        ctx.fail(`account ${account.id}`, err);
      }
    }
  }

  private async evaluate(account: Account, ctx: JobContext): Promise<void> {
    const { inactivityDisableDays, purgeAfterDisabledDays, purge } = this.config.accounts;
    const basis = account.lastLoginAt ?? account.createdAt;
    const idle = ctx.asOf - basis;
    const mark = await this.marks.get(account.id);
    if (mark && mark.basisAt !== basis && !ctx.dryRun) await this.marks.clear(account.id); // logged in since
    const sameMark = mark?.basisAt === basis;
    const base = { target: account.id, account: account.id, since: basis };

    if (idle >= (inactivityDisableDays + purgeAfterDisabledDays) * DAY_MS) {
      if (purge) {
        if (ctx.dryRun) {
          ctx.record({ ...base, action: 'purge', detail: { ...(await countPurge(this.paths, this.accounts, account.id)) } });
          return;
        }
        const done = await purgeAccount({ paths: this.paths, accounts: this.accounts, retention: this.retention, deleter: this.deleter }, account.id, ctx.asOf);
        await this.marks.clear(account.id);
        ctx.counts.add('filesDeleted', done.files);
        ctx.counts.add('bytes', done.bytes);
        ctx.counts.add('directoryRowsDeleted', done.directoryRows);
        ctx.record({ ...base, action: 'purge', detail: { ...done } });
        return;
      }
      // Purging is off: the account simply stays disabled.
      if (account.enabled && !sameMark) await this.disable(account, basis, ctx, { purgeDisabled: true });
      return;
    }
    if (idle >= inactivityDisableDays * DAY_MS) {
      if (!account.enabled) return;
      if (sameMark) {
        // Re-enabled by an operator after we disabled it: leave it; the purge deadline still holds.
        ctx.counts.add('reenabledKept');
        return;
      }
      await this.disable(account, basis, ctx, {});
    }
  }

  private async disable(account: Account, basis: number, ctx: JobContext, detail: Record<string, unknown>): Promise<void> {
    const purgeDueAt = basis + (this.config.accounts.inactivityDisableDays + this.config.accounts.purgeAfterDisabledDays) * DAY_MS;
    ctx.record({
      action: 'disable', target: account.id, account: account.id, since: basis,
      detail: { ...detail, purgeDueAt: new Date(purgeDueAt).toISOString() },
    });
    if (ctx.dryRun) return;
    await this.marks.disableAccount({ accountId: account.id, basisAt: basis, disabledAt: ctx.asOf }, INACTIVITY_REASON);
  }
}
