import { canonicalAddress } from '../accounts/allowlist';

export interface BruteForceConfig {
  maxFailures: number;
  windowSeconds: number;
  banSeconds: number;
}

/**
 * Bans an address for `banSeconds` after `maxFailures` failed authentications within
 * `windowSeconds`. In memory: a restart lifts bans, which is acceptable for a rate limiter.
 */
export class BruteForceGuard {
  private readonly failures = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();

  constructor(private readonly config: BruteForceConfig, private readonly now: () => number = Date.now) {}

  /** Epoch ms until which the address is banned, or undefined. */
  bannedUntil(address: string): number | undefined {
    const ip = canonicalAddress(address);
    const until = this.bans.get(ip);
    if (until === undefined) return undefined;
    if (until <= this.now()) {
      this.bans.delete(ip);
      return undefined;
    }
    return until;
  }

  /** Records a failure; returns the ban end when this failure triggered a ban. */
  fail(address: string): number | undefined {
    const ip = canonicalAddress(address);
    const now = this.now();
    const since = now - this.config.windowSeconds * 1000;
    const recent = (this.failures.get(ip) ?? []).filter((t) => t > since);
    recent.push(now);
    if (recent.length >= this.config.maxFailures) {
      this.failures.delete(ip);
      const until = now + this.config.banSeconds * 1000;
      this.bans.set(ip, until);
      return until;
    }
    this.failures.set(ip, recent);
    this.prune(since);
    return undefined;
  }

  /** A successful login clears the address's failure count. */
  succeed(address: string): void {
    this.failures.delete(canonicalAddress(address));
  }

  private prune(since: number): void {
    // Keep memory bounded under a scan from many addresses.
    if (this.failures.size < 10_000) return;
    for (const [ip, times] of this.failures) if (times.every((t) => t <= since)) this.failures.delete(ip);
  }
}
