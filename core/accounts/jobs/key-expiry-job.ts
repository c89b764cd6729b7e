import type { FluxgateConfig } from '../../config/schema';
import { DAY_MS, type Job, type JobContext } from '../../cron/job';
import type { AccountRepository } from '../../store/ports/accounts';

/**
 * Keys past their validity (set at `key add` from the key policy, in days: RSA 3072–4095 bits
 * keys.rsaShortValidityDays, RSA 4096+ and ed25519 keys.longValidityDays) are already refused
 * at login; this job marks them expired (`expired_at`) so the state is visible and final, and
 * warns `keys.warnDays` before a key expires: one warn log line per key and the `warned` count
 * of the run (the metric).
 */
export class KeyExpiryJob implements Job {
  readonly name = 'key-expiry' as const;
  readonly description = 'marks expired SSH keys, warns 30 days before a key expires';

  constructor(
    private readonly config: FluxgateConfig,
    private readonly accounts: AccountRepository,
  ) {}

  async run(ctx: JobContext): Promise<void> {
    const warnMs = this.config.keys.warnDays * DAY_MS;
    const purged = new Set((await this.accounts.list()).filter((a) => a.purgedAt !== null).map((a) => a.id));
    for (const key of await this.accounts.allKeys()) {
      if (ctx.signal.aborted) return;
      if (purged.has(key.accountId)) continue;
      ctx.counts.add('checked');
      const base = {
        target: key.fingerprint, account: key.accountId, since: key.addedAt,
        detail: { type: key.type, bits: key.bits, comment: key.comment, expiresAt: new Date(key.expiresAt).toISOString() },
      };
      // Marked expired is final, even for a run dated before that mark (`--at` may go back in
      // time): such a key is refused at login, so a warning that it "expires in N days" is false.
      if (key.expiredAt !== null) continue;
      try {
        if (key.expiresAt <= ctx.asOf) {
          // A dry run says what a run would do (ctx.record logs `would expire`), never that it was done.
          ctx.record({ ...base, action: 'expire' });
          if (ctx.dryRun) continue;
          await this.accounts.expireKey(key.id, ctx.asOf, {
            type: 'key.expired', at: ctx.asOf, account: key.accountId,
            summary: `SSH key ${key.fingerprint} of account ${key.accountId} expired: it is refused at login`,
            data: { fingerprint: key.fingerprint, expiresAt: base.detail.expiresAt },
          });
          ctx.logger.warn({ account: key.accountId, fingerprint: key.fingerprint, expiresAt: base.detail.expiresAt }, 'SSH key expired: marked expired, it is refused at login');
        } else if (key.expiresAt - warnMs <= ctx.asOf) {
          // Warn once per key (a key's expiry never moves, so one warning covers it).
          if (key.warnedAt !== null && key.warnedAt >= key.expiresAt - warnMs) continue;
          const daysLeft = Math.ceil((key.expiresAt - ctx.asOf) / DAY_MS);
          ctx.record({ ...base, action: 'warn', detail: { ...base.detail, daysLeft } });
          if (ctx.dryRun) continue;
          ctx.logger.warn({ account: key.accountId, fingerprint: key.fingerprint, expiresAt: base.detail.expiresAt, daysLeft },
            `SSH key expires in ${daysLeft} day(s): the client must register a new key (fluxgate key add)`);
          await this.accounts.warnKey(key.id, ctx.asOf, {
            type: 'key.expiring', at: ctx.asOf, account: key.accountId,
            summary: `SSH key ${key.fingerprint} of account ${key.accountId} expires in ${daysLeft} day(s)`,
            data: { fingerprint: key.fingerprint, expiresAt: base.detail.expiresAt, daysLeft },
          });
        }
      } catch (err) {
        ctx.fail(`${key.accountId} ${key.fingerprint}`, err);
      }
    }
  }
}
