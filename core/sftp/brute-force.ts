import { canonicalAddress } from '../accounts/allowlist';
import type { UploadEvents } from '../events';

export interface BruteForceConfig {
  maxFailures: number;
  windowSeconds: number;
  banSeconds: number;
}

interface Failure {
  at: number;
  /** The user name the failed attempt was for ('' when none was given). */
  user: string;
}

/**
 * Where a guard keeps its bans: "address X banned until T" (canonical addresses, epoch ms).
 * In memory by default (the HTTP plane's guards); the SFTP server's are in the store, shared
 * by every node (shared-bans.ts).
 */
export interface BanBook {
  /** When the address's ban ends, if it is banned now. Synchronous: asked on every connection. */
  until(address: string): number | undefined;
  /** Bans the address until `until`; `user` is the last user name tried. */
  add(address: string, until: number, user: string): void;
}

/** Bans in this process's memory: a restart lifts them. */
export class MemoryBans implements BanBook {
  private readonly bans = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  until(address: string): number | undefined {
    const until = this.bans.get(address);
    if (until === undefined) return undefined;
    if (until <= this.now()) {
      this.bans.delete(address);
      return undefined;
    }
    return until;
  }

  add(address: string, until: number): void {
    this.bans.set(address, Math.max(until, this.bans.get(address) ?? 0));
  }
}

/**
 * Bans an address for `banSeconds` after `maxFailures` failed authentications from it within
 * `windowSeconds`, whatever user names they were for. A successful login clears only what it
 * disproves: the failures of that same user name from that same address (a client that mistyped
 * then got it right). It never clears failures against other accounts, so logging in to one
 * account between guesses at another does not reset the count.
 * Failures are counted in this process's memory; the bans go to a BanBook (the SFTP server's is
 * the store's, shared by the nodes and kept across restarts: docs/sftp.md, "Brute-force bans").
 */
export class BruteForceGuard {
  private readonly failures = new Map<string, Failure[]>();
  /** Attempts being decided (a password's scrypt takes a while), per address. */
  private readonly inFlight = new Map<string, number>();
  /** Attempts waiting for room under maxFailures, per address. */
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(
    private readonly config: BruteForceConfig,
    private readonly now: () => number = Date.now,
    private readonly bans: BanBook = new MemoryBans(now),
  ) {}

  /** Epoch ms until which the address is banned, or undefined. */
  bannedUntil(address: string): number | undefined {
    return this.bans.until(canonicalAddress(address));
  }

  /**
   * Admits one authentication attempt that may count as a failure (a password, a signed key).
   * Resolves with `done`, to call once the attempt's failure or success has been recorded, as
   * soon as the failures within the window plus the attempts still being decided leave room
   * under maxFailures; resolves with undefined if the address is banned meanwhile. So however
   * many connections guess at once, at most maxFailures guesses are answered before the ban;
   * a legitimate client's parallel logins only wait for the attempts ahead of them.
   */
  async admit(address: string): Promise<(() => void) | undefined> {
    const ip = canonicalAddress(address);
    for (;;) {
      if (this.bannedUntil(ip) !== undefined) return undefined;
      const deciding = this.inFlight.get(ip) ?? 0;
      if (this.failureCount(ip) + deciding < this.config.maxFailures) {
        this.inFlight.set(ip, deciding + 1);
        let open = true;
        return () => {
          if (!open) return;
          open = false;
          const left = (this.inFlight.get(ip) ?? 1) - 1;
          if (left <= 0) this.inFlight.delete(ip);
          else this.inFlight.set(ip, left);
          // Each waiter checks again: the attempt just decided may have banned the address, or freed a place.
          const wake = this.waiting.get(ip) ?? [];
          this.waiting.delete(ip);
          for (const resume of wake) resume();
        };
      }
      // Only while attempts are being decided (else failures alone would have banned it): one will wake this.
      await new Promise<void>((resume) => {
        const list = this.waiting.get(ip);
        if (list) list.push(resume);
        else this.waiting.set(ip, [resume]);
      });
    }
  }

  /** Records a failure of `user` from `address`; returns the ban end when this failure triggered a ban. */
  fail(address: string, user = ''): number | undefined {
    const ip = canonicalAddress(address);
    const now = this.now();
    const since = now - this.config.windowSeconds * 1000;
    const recent = (this.failures.get(ip) ?? []).filter((f) => f.at > since);
    recent.push({ at: now, user });
    if (recent.length >= this.config.maxFailures) {
      this.failures.delete(ip);
      const until = now + this.config.banSeconds * 1000;
      this.bans.add(ip, until, user);
      return until;
    }
    this.failures.set(ip, recent);
    this.prune(since);
    return undefined;
  }

  /** Failures from the address still within the window (all user names). */
  failureCount(address: string): number {
    const since = this.now() - this.config.windowSeconds * 1000;
    return (this.failures.get(canonicalAddress(address)) ?? []).filter((f) => f.at > since).length;
  }

  /** A successful login of `user` from `address` clears that user's failures from that address, and nothing else. */
  succeed(address: string, user: string): void {
    const ip = canonicalAddress(address);
    const list = this.failures.get(ip);
    if (!list) return;
    const rest = list.filter((f) => f.user !== user);
    if (rest.length === 0) this.failures.delete(ip);
    else this.failures.set(ip, rest);
  }

  private prune(since: number): void {
    // Keep memory bounded under a scan from many addresses.
    if (this.failures.size < 10_000) return;
    for (const [ip, list] of this.failures) if (list.every((f) => f.at <= since)) this.failures.delete(ip);
  }
}

/**
 * Records a failure; a ban it triggers is logged and signalled (the `login.banned` event, and
 * metrics), whichever path counted it: a refused login, or a connection that never logged in.
 * Returns the ban end when it banned.
 */
export function recordFailure(
  guard: BruteForceGuard, banSeconds: number, log: { warn(obj: object, msg: string): void }, events: UploadEvents, address: string, user: string,
): number | undefined {
  const until = guard.fail(address, user);
  if (until) {
    log.warn({ until: new Date(until).toISOString(), banSeconds }, 'address banned after repeated authentication failures');
    events.signal({ type: 'ban', address: canonicalAddress(address), user, until });
  }
  return until;
}
