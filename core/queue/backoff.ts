export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

/** Delay before attempt `failedAttempts + 1`: base · factor^(failedAttempts − 1), capped. */
export function backoffDelay(policy: RetryPolicy, failedAttempts: number): number {
  const raw = policy.baseDelayMs * policy.factor ** Math.max(0, failedAttempts - 1);
  return Math.min(policy.maxDelayMs, Math.round(raw));
}
