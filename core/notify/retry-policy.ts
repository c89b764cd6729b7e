export interface DeliveryRetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  horizonMs: number;
}

/**
 * When a failed delivery is tried again: base · 2^(attempts−1), capped at maxDelayMs, then a
 * random 50-100 % of that (jitter: receivers that come back are not hit by every sender at
 * once). Null once that would fall past the horizon (counted from `retryFrom`): the delivery is dead.
 */
export function nextAttemptAt(policy: DeliveryRetryPolicy, attemptsMade: number, now: number, retryFrom: number, random = Math.random): number | null {
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  const at = now + Math.round(raw * (0.5 + random() / 2));
  return at > retryFrom + policy.horizonMs ? null : at;
}
