import type { Database } from './database';
import type { Dashboard, FinishedFile, MetricsSnapshot, OperationsRepository } from './ports/operations';
import { statement } from './statements';

const DAY_MS = 86_400_000;

/** The operator plane's read models in SQLite. */
export class SqliteOperationsRepository implements OperationsRepository {
  constructor(private readonly db: Database) {}

  private all<T>(sql: string, ...params: unknown[]): T[] { return statement(this.db, sql).all(...params) as T[]; }
  private one<T>(sql: string, ...params: unknown[]): T { return statement(this.db, sql).get(...params) as T; }
  private readyQueue(now: number): { n: number; oldest: number | null } {
    return this.one(`SELECT COUNT(*) AS n, MIN(run_at) AS oldest FROM queue WHERE state = 'ready' AND run_at <= ?`, now);
  }
  private leased(): number { return this.one<{ n: number }>(`SELECT COUNT(*) AS n FROM queue WHERE state = 'leased'`).n; }
  private deadCount(): number { return this.one<{ n: number }>(`SELECT COUNT(*) AS n FROM files WHERE state = 'dead'`).n; }

  async dashboard(now = Date.now()): Promise<Dashboard> {
    const midnight = Math.floor(now / DAY_MS) * DAY_MS;
    const queue = this.readyQueue(now);
    const logins = this.one<{ ok: number | null; refused: number | null }>(
      `SELECT SUM(status < 400) AS ok, SUM(status >= 400) AS refused FROM audit_log
       WHERE at >= ? AND action IN ('POST /api/v1/login', 'POST /console/login')`, midnight);
    return {
      today: this.all(`SELECT COALESCE(flux, '') AS flux, state, COUNT(*) AS n FROM files WHERE received_at >= ? GROUP BY flux, state ORDER BY flux, state`, midnight),
      recentRejected: this.all<{ id: string; account: string; name: string; flux: string | null; receivedAt: number; outcome: string | null }>(
        `SELECT id, account_id AS account, name, flux, received_at AS receivedAt, outcome FROM files WHERE state = 'rejected' ORDER BY received_at DESC LIMIT 10`)
        .map(({ outcome, ...f }) => ({ ...f, summary: summaryOf(outcome) })),
      dead: this.deadCount(),
      deadFiles: this.all(`SELECT id, account_id AS account, name, received_at AS receivedAt FROM files WHERE state = 'dead' ORDER BY received_at DESC LIMIT 10`),
      queue: {
        ready: queue.n, leased: this.leased(),
        oldestWaitingSeconds: queue.oldest === null ? 0 : Math.max(0, Math.round((now - queue.oldest) / 1000)),
      },
      operatorLogins: { ok: logins.ok ?? 0, refused: logins.refused ?? 0 },
      expiringKeys: this.all(`SELECT account_id AS account, fingerprint, expires_at AS expiresAt FROM account_keys
        WHERE expired_at IS NULL AND expires_at > ? AND expires_at <= ? ORDER BY expires_at LIMIT 20`, now, now + 14 * DAY_MS),
      failedJobs: this.all(`SELECT r.job, r.started_at AS startedAt, r.error FROM cron_runs r
        WHERE r.id = (SELECT MAX(id) FROM cron_runs x WHERE x.job = r.job AND x.outcome <> 'running') AND r.outcome IN ('failed', 'interrupted')`),
      disabledAccounts: this.one<{ n: number }>(`SELECT COUNT(*) AS n FROM accounts WHERE enabled = 0`).n,
      accountsLoggedInToday: this.one<{ n: number }>(`SELECT COUNT(*) AS n FROM accounts WHERE last_login_at >= ?`, midnight).n,
    };
  }

  async metrics(now = Date.now()): Promise<MetricsSnapshot> {
    const queue = this.readyQueue(now);
    return {
      files: this.all(`SELECT COALESCE(flux, '') AS flux, state, COUNT(*) AS n FROM files GROUP BY flux, state`),
      dead: this.deadCount(),
      queue: { ready: queue.n, leased: this.leased(), oldestReadyAt: queue.oldest },
      jobRuns: this.all(`SELECT job, outcome, COUNT(*) AS n FROM cron_runs WHERE outcome <> 'running' GROUP BY job, outcome`),
    };
  }

  async lastFileEventId(): Promise<number> {
    return this.one<{ n: number }>('SELECT COALESCE(MAX(id), 0) AS n FROM file_events').n;
  }

  async finishedFilesSince(afterEventId: number): Promise<FinishedFile[]> {
    return this.all<FinishedFile>(`SELECT e.id AS eventId, e.at, e.type AS outcome, f.flux,
        (SELECT a.at FROM file_events a WHERE a.file_id = e.file_id AND a.type = 'attempt' AND a.id < e.id ORDER BY a.id DESC LIMIT 1) AS began
      FROM file_events e JOIN files f ON f.id = e.file_id
      WHERE e.id > ? AND e.type IN ('processed', 'rejected', 'dead') ORDER BY e.id`, afterEventId);
  }

  async ping(): Promise<boolean> {
    return this.one<{ ok: number }>('SELECT 1 AS ok').ok === 1;
  }
}

/** The one line a rejected file's outcome (JSON text) shows: its summary, else its code. */
export function summaryOf(outcome: string | null): string | null {
  if (!outcome) return null;
  try {
    const parsed = JSON.parse(outcome) as { summary?: unknown; code?: unknown };
    return typeof parsed.summary === 'string' ? parsed.summary : typeof parsed.code === 'string' ? parsed.code : null;
  } catch {
    return null;
  }
}
