import type { Logger } from '../logging/logger';

/** The jobs fluxgate schedules, by the name the CLI uses. */
export const JOB_NAMES = ['retention', 'account-inactivity', 'key-expiry', 'expectations', 'housekeeping'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** Where each job's schedule lives in `config.jobs`. */
export const JOB_CONFIG_KEYS: Record<JobName, 'retention' | 'accountInactivity' | 'keyExpiry' | 'expectations' | 'housekeeping'> = {
  retention: 'retention',
  'account-inactivity': 'accountInactivity',
  'key-expiry': 'keyExpiry',
  expectations: 'expectations',
  housekeeping: 'housekeeping',
};

/** One thing a run did (or, under --dry-run, would do). */
export interface JobAction {
  action: string;
  /** What it acts on: a path, an account id, a key fingerprint. */
  target: string;
  account?: string;
  rule?: string;
  /** When the rule's clock started (epoch ms): received, processed, first seen, last login, expiry… */
  since?: number;
  detail?: Record<string, unknown>;
}

export class JobCounts {
  readonly values: Record<string, number> = {};
  add(key: string, n = 1): void { this.values[key] = (this.values[key] ?? 0) + n; }
  get(key: string): number { return this.values[key] ?? 0; }
}

/** What a job receives for one run. */
export interface JobContext {
  /** The instant the rules are evaluated as of (now, or `--at`). */
  readonly asOf: number;
  /** Decide and report, change nothing. */
  readonly dryRun: boolean;
  readonly logger: Logger;
  readonly counts: JobCounts;
  /** Aborted when the server stops: a job stops between items, never in the middle of one. */
  readonly signal: AbortSignal;
  /** Records an action (done, or that would be done under dry-run). */
  record(action: JobAction): void;
  /**
   * Records a failure on one item and carries on: the run ends `failed`, everything done so
   * far stays consistent, and the next run retries what is left.
   */
  fail(target: string, err: unknown): void;
}

export interface Job {
  readonly name: JobName;
  readonly description: string;
  /** Why the schedule need not run it (nothing configured for it), or undefined. */
  idleReason?(): string | undefined;
  /** Awaited by the runner: a job with nothing to wait for is synchronous. */
  run(ctx: JobContext): Promise<void> | void;
}

export const DAY_MS = 24 * 3600_000;
