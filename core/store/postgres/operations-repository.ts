import { summaryOf } from '../operations-repository';
import type { Dashboard, FinishedFile, MetricsSnapshot, OperationsRepository } from '../ports/operations';
import type { PgPool, Queryable } from './pool';

const DAY_MS = 86_400_000;

/** The operator plane's read models in PostgreSQL (camelCase aliases are quoted: PostgreSQL folds the others to lower case). */
export class PostgresOperationsRepository implements OperationsRepository {
  constructor(private readonly db: PgPool) {}

  /**
   * The dashboard's queries one after the other on one connection, in one read-only snapshot: a
   * page is consistent, and it takes one connection of the pool, not a dozen.
   */
  async dashboard(now = Date.now()): Promise<Dashboard> {
    return this.db.transaction(async (tx) => {
      await tx.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return dashboardIn(tx, now);
    });
  }

  async metrics(now = Date.now()): Promise<MetricsSnapshot> {
    return this.db.transaction(async (tx) => {
      await tx.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const queue = await readyQueue(tx, now);
      const leased = await count(tx, `SELECT COUNT(*) AS n FROM queue WHERE state = 'leased'`);
      const files = await tx.rows<MetricsSnapshot['files'][number]>(`SELECT COALESCE(flux, '') AS flux, state, COUNT(*) AS n FROM files GROUP BY flux, state`);
      const dead = await count(tx, `SELECT COUNT(*) AS n FROM files WHERE state = 'dead'`);
      const jobRuns = await tx.rows<MetricsSnapshot['jobRuns'][number]>(`SELECT job, outcome, COUNT(*) AS n FROM cron_runs WHERE outcome <> 'running' GROUP BY job, outcome`);
      return { files, dead, queue: { ready: queue.n, leased, oldestReadyAt: queue.oldest }, jobRuns };
    });
  }

  async lastFileEventId(): Promise<number> {
    return count(this.db, 'SELECT COALESCE(MAX(id), 0) AS n FROM file_events');
  }

  async finishedFilesSince(afterEventId: number): Promise<FinishedFile[]> {
    return this.db.rows<FinishedFile>(`SELECT e.id AS "eventId", e.at, e.type AS outcome, f.flux,
        (SELECT a.at FROM file_events a WHERE a.file_id = e.file_id AND a.type = 'attempt' AND a.id < e.id ORDER BY a.id DESC LIMIT 1) AS began
      FROM file_events e JOIN files f ON f.id = e.file_id
      WHERE e.id > $1 AND e.type IN ('processed', 'rejected', 'dead') ORDER BY e.id`, [afterEventId]);
  }

  async ping(): Promise<boolean> {
    return (await this.db.row<{ ok: number }>('SELECT 1 AS ok'))?.ok === 1;
  }
}

async function readyQueue(q: Queryable, now: number): Promise<{ n: number; oldest: number | null }> {
  return (await q.row<{ n: number; oldest: number | null }>(`SELECT COUNT(*) AS n, MIN(run_at) AS oldest FROM queue WHERE state = 'ready' AND run_at <= $1`, [now]))!;
}

async function count(q: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  return (await q.row<{ n: number }>(sql, params))!.n;
}

async function dashboardIn(tx: Queryable, now: number): Promise<Dashboard> {
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  const queue = await readyQueue(tx, now);
  const logins = (await tx.row<{ ok: number; refused: number }>(`SELECT COUNT(*) FILTER (WHERE status < 400) AS ok, COUNT(*) FILTER (WHERE status >= 400) AS refused
    FROM audit_log WHERE at >= $1 AND action IN ('POST /api/v1/login', 'POST /console/login')`, [midnight]))!;
  const rejected = await tx.rows<{ id: string; account: string; name: string; flux: string | null; receivedAt: number; outcome: string | null }>(
    `SELECT id, account_id AS account, name, flux, received_at AS "receivedAt", outcome FROM files WHERE state = 'rejected' ORDER BY received_at DESC LIMIT 10`);
  return {
    today: await tx.rows<Dashboard['today'][number]>(`SELECT COALESCE(flux, '') AS flux, state, COUNT(*) AS n FROM files WHERE received_at >= $1
      GROUP BY flux, state ORDER BY COALESCE(flux, ''), state`, [midnight]),
    recentRejected: rejected.map(({ outcome, ...f }) => ({ ...f, summary: summaryOf(outcome) })),
    dead: await count(tx, `SELECT COUNT(*) AS n FROM files WHERE state = 'dead'`),
    deadFiles: await tx.rows<Dashboard['deadFiles'][number]>(
      `SELECT id, account_id AS account, name, received_at AS "receivedAt" FROM files WHERE state = 'dead' ORDER BY received_at DESC LIMIT 10`),
    queue: {
      ready: queue.n, leased: await count(tx, `SELECT COUNT(*) AS n FROM queue WHERE state = 'leased'`),
      oldestWaitingSeconds: queue.oldest === null ? 0 : Math.max(0, Math.round((now - queue.oldest) / 1000)),
    },
    operatorLogins: { ok: logins.ok, refused: logins.refused },
    expiringKeys: await tx.rows<Dashboard['expiringKeys'][number]>(`SELECT account_id AS account, fingerprint, expires_at AS "expiresAt" FROM account_keys
      WHERE expired_at IS NULL AND expires_at > $1 AND expires_at <= $2 ORDER BY expires_at LIMIT 20`, [now, now + 14 * DAY_MS]),
    failedJobs: await tx.rows<Dashboard['failedJobs'][number]>(`SELECT r.job, r.started_at AS "startedAt", r.error FROM cron_runs r
      WHERE r.id = (SELECT MAX(id) FROM cron_runs x WHERE x.job = r.job AND x.outcome <> 'running') AND r.outcome IN ('failed', 'interrupted')`),
    disabledAccounts: await count(tx, 'SELECT COUNT(*) AS n FROM accounts WHERE NOT enabled'),
    accountsLoggedInToday: await count(tx, 'SELECT COUNT(*) AS n FROM accounts WHERE last_login_at >= $1', [midnight]),
  };
}
