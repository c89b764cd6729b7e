import type { Database } from '../../store/database';

export interface Dashboard {
  /** Files received since midnight UTC, by flux and state. */
  today: Array<{ flux: string; state: string; n: number }>;
  recentRejected: Array<{ id: string; account: string; name: string; flux: string | null; receivedAt: number; summary: string | null }>;
  dead: number;
  deadFiles: Array<{ id: string; account: string; name: string; receivedAt: number }>;
  queue: { ready: number; leased: number; oldestWaitingSeconds: number };
  /** Console and API logins today, from the audit log. */
  operatorLogins: { ok: number; refused: number };
  /** Keys that expire within 14 days (not yet expired), and jobs whose last run failed. */
  expiringKeys: Array<{ account: string; fingerprint: string; expiresAt: number }>;
  failedJobs: Array<{ job: string; startedAt: number; error: string | null }>;
  disabledAccounts: number;
  /** Accounts whose last SFTP login was today. */
  accountsLoggedInToday: number;
}

const DAY_MS = 86_400_000;

/** What the dashboard shows, read from the store in one go (a handful of indexed queries). */
export function readDashboard(db: Database, now = Date.now()): Dashboard {
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  const all = <T>(sql: string, ...params: unknown[]): T[] => db.prepare(sql).all(...params) as T[];
  const one = <T>(sql: string, ...params: unknown[]): T => db.prepare(sql).get(...params) as T;
  const queue = one<{ n: number; oldest: number | null }>(`SELECT COUNT(*) AS n, MIN(run_at) AS oldest FROM queue WHERE state = 'ready' AND run_at <= ?`, now);
  const logins = one<{ ok: number | null; refused: number | null }>(
    `SELECT SUM(status < 400) AS ok, SUM(status >= 400) AS refused FROM audit_log
     WHERE at >= ? AND action IN ('POST /api/v1/login', 'POST /console/login')`, midnight);
  return {
    today: all(`SELECT COALESCE(flux, '') AS flux, state, COUNT(*) AS n FROM files WHERE received_at >= ? GROUP BY flux, state ORDER BY flux, state`, midnight),
    recentRejected: all<{ id: string; account: string; name: string; flux: string | null; receivedAt: number; outcome: string | null }>(
      `SELECT id, account_id AS account, name, flux, received_at AS receivedAt, outcome FROM files WHERE state = 'rejected' ORDER BY received_at DESC LIMIT 10`)
      .map(({ outcome, ...f }) => ({ ...f, summary: summaryOf(outcome) })),
    dead: one<{ n: number }>(`SELECT COUNT(*) AS n FROM files WHERE state = 'dead'`).n,
    deadFiles: all(`SELECT id, account_id AS account, name, received_at AS receivedAt FROM files WHERE state = 'dead' ORDER BY received_at DESC LIMIT 10`),
    queue: {
      ready: queue.n, leased: one<{ n: number }>(`SELECT COUNT(*) AS n FROM queue WHERE state = 'leased'`).n,
      oldestWaitingSeconds: queue.oldest === null ? 0 : Math.max(0, Math.round((now - queue.oldest) / 1000)),
    },
    operatorLogins: { ok: logins.ok ?? 0, refused: logins.refused ?? 0 },
    expiringKeys: all(`SELECT account_id AS account, fingerprint, expires_at AS expiresAt FROM account_keys
      WHERE expired_at IS NULL AND expires_at > ? AND expires_at <= ? ORDER BY expires_at LIMIT 20`, now, now + 14 * DAY_MS),
    failedJobs: all(`SELECT r.job, r.started_at AS startedAt, r.error FROM cron_runs r
      WHERE r.id = (SELECT MAX(id) FROM cron_runs x WHERE x.job = r.job AND x.outcome <> 'running') AND r.outcome IN ('failed', 'interrupted')`),
    disabledAccounts: one<{ n: number }>(`SELECT COUNT(*) AS n FROM accounts WHERE enabled = 0`).n,
    accountsLoggedInToday: one<{ n: number }>(`SELECT COUNT(*) AS n FROM accounts WHERE last_login_at >= ?`, midnight).n,
  };
}

function summaryOf(outcome: string | null): string | null {
  if (!outcome) return null;
  try {
    const parsed = JSON.parse(outcome) as { summary?: unknown; code?: unknown };
    return typeof parsed.summary === 'string' ? parsed.summary : typeof parsed.code === 'string' ? parsed.code : null;
  } catch {
    return null;
  }
}
