import type { Logger } from '../logging/logger';

const INTERVAL_MS = 10_000;

/**
 * Log lines for refused connections: at most one per address and reason every 10 s, the next
 * one telling how many were left out meanwhile, so a flood from one address cannot fill the log.
 */
export class RefusalLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly log: Logger, private readonly now: () => number = Date.now) {}

  warn(address: string, reason: string, msg: string, fields: Record<string, unknown>): void {
    const key = `${reason} ${address}`;
    const now = this.now();
    const last = this.last.get(key);
    if (last && now - last.at < INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    if (this.last.size >= 10_000) {
      for (const [k, v] of this.last) if (now - v.at >= INTERVAL_MS) this.last.delete(k);
    }
    this.last.set(key, { at: now, suppressed: 0 });
    this.log.warn({ address, ...fields, ...(last?.suppressed ? { alsoRefusedSinceLastLine: last.suppressed } : {}) }, msg);
  }
}
