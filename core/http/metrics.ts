import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UploadEvents } from '../events';
import type { Database } from '../store/database';

interface FinishedRow { id: number; at: number; type: 'processed' | 'rejected' | 'dead'; flux: string | null; began: number | null }

/**
 * The server's Prometheus metrics. Two sources:
 * - signals of the SFTP server on the injected UploadEvents sink (logins, bans, sessions,
 *   bytes): counted from this process's start, as Prometheus counters are;
 * - the database, read at each scrape: files by flux and state, dead files, queue depth and
 *   the oldest waiting job, job runs. Files that finished since the last scrape are found in the
 *   journal's timeline (their `attempt` and final events), which gives the processing duration
 *   histogram and outcome counter whichever process ran them.
 */
export class FluxgateMetrics {
  readonly registry = new Registry();
  private lastEventId: number;
  private readonly filesFinished: Counter<'flux' | 'outcome'>;
  private readonly duration: Histogram<'flux'>;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly db: Database, events: UploadEvents) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'fluxgate_process_', eventLoopMonitoringPrecision: 1000 });
    const logins = new Counter({ name: 'fluxgate_sftp_logins_total', help: 'SFTP login attempts by result (refused: failures that count toward a ban)', labelNames: ['result'], registers });
    const bans = new Counter({ name: 'fluxgate_sftp_bans_total', help: 'addresses banned after repeated authentication failures', registers });
    const sessions = new Gauge({ name: 'fluxgate_sftp_sessions_open', help: 'logged-in SFTP connections open now', registers });
    const bytes = new Counter({ name: 'fluxgate_sftp_bytes_total', help: 'bytes transferred: up (completed uploads), down (reads)', labelNames: ['direction'], registers });
    for (const result of ['accepted', 'refused']) logins.inc({ result }, 0);
    for (const direction of ['up', 'down']) bytes.inc({ direction }, 0);
    this.unsubscribe.push(events.onSignal((s) => {
      if (s.type === 'login') logins.inc({ result: s.result });
      else if (s.type === 'ban') bans.inc();
      else if (s.type === 'session') sessions.inc(s.open ? 1 : -1);
      else if (s.type === 'download') bytes.inc({ direction: 'down' }, s.bytes);
    }));
    this.unsubscribe.push(events.onCompleted((u) => bytes.inc({ direction: 'up' }, u.size)));

    this.filesFinished = new Counter({ name: 'fluxgate_files_finished_total', help: 'files that finished processing since the server started, by flux and outcome (processed, rejected, dead)', labelNames: ['flux', 'outcome'], registers });
    this.duration = new Histogram({
      name: 'fluxgate_file_processing_seconds', help: 'time of the last attempt of each finished file (from its start to its outcome), by flux',
      labelNames: ['flux'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers,
    });
    this.lastEventId = (db.prepare('SELECT COALESCE(MAX(id), 0) FROM file_events').pluck().get() as number);

    const sql = {
      files: db.prepare(`SELECT COALESCE(flux, '') AS flux, state, COUNT(*) AS n FROM files GROUP BY flux, state`),
      queue: db.prepare(`SELECT COUNT(*) AS n, MIN(run_at) AS oldest FROM queue WHERE state = 'ready' AND run_at <= ?`),
      leased: db.prepare(`SELECT COUNT(*) FROM queue WHERE state = 'leased'`).pluck(),
      dead: db.prepare(`SELECT COUNT(*) FROM files WHERE state = 'dead'`).pluck(),
      jobs: db.prepare(`SELECT job, outcome, COUNT(*) AS n FROM cron_runs WHERE outcome <> 'running' GROUP BY job, outcome`),
    };
    new Gauge({
      name: 'fluxgate_files', help: 'files in the journal by flux and state', labelNames: ['flux', 'state'], registers,
      collect() {
        this.reset();
        for (const r of sql.files.all() as Array<{ flux: string; state: string; n: number }>) this.set({ flux: r.flux, state: r.state }, r.n);
      },
    });
    new Gauge({ name: 'fluxgate_files_dead', help: 'files dead after their last attempt (they need an operator: replay)', registers, collect() { this.set(sql.dead.get() as number); } });
    new Gauge({
      name: 'fluxgate_queue_depth', help: 'queue jobs due and waiting for a worker (state ready), and being worked on (leased)', labelNames: ['state'], registers,
      collect() {
        const q = sql.queue.get(Date.now()) as { n: number };
        this.set({ state: 'ready' }, q.n);
        this.set({ state: 'leased' }, sql.leased.get() as number);
      },
    });
    new Gauge({
      name: 'fluxgate_queue_oldest_waiting_seconds', help: 'how long the oldest due job has waited for a worker (0 when none waits)', registers,
      collect() {
        const q = sql.queue.get(Date.now()) as { oldest: number | null };
        this.set(q.oldest === null ? 0 : Math.max(0, (Date.now() - q.oldest) / 1000));
      },
    });
    new Gauge({
      name: 'fluxgate_job_runs', help: 'recorded runs of the scheduled jobs by job and result (ok, failed, interrupted)', labelNames: ['job', 'result'], registers,
      collect() {
        this.reset();
        for (const r of sql.jobs.all() as Array<{ job: string; outcome: string; n: number }>) this.set({ job: r.job, result: r.outcome }, r.n);
      },
    });
  }

  /** The text Prometheus scrapes; first takes in the files finished since the last scrape. */
  async text(): Promise<string> {
    this.takeFinishedFiles();
    return this.registry.metrics();
  }

  get contentType(): string { return this.registry.contentType; }

  private takeFinishedFiles(): void {
    const rows = this.db.prepare(`SELECT e.id, e.at, e.type, f.flux,
        (SELECT a.at FROM file_events a WHERE a.file_id = e.file_id AND a.type = 'attempt' AND a.id < e.id ORDER BY a.id DESC LIMIT 1) AS began
      FROM file_events e JOIN files f ON f.id = e.file_id
      WHERE e.id > ? AND e.type IN ('processed', 'rejected', 'dead') ORDER BY e.id`).all(this.lastEventId) as FinishedRow[];
    for (const r of rows) {
      const flux = r.flux ?? '';
      this.filesFinished.inc({ flux, outcome: r.type });
      if (r.began !== null) this.duration.observe({ flux }, Math.max(0, r.at - r.began) / 1000);
    }
    if (rows.length > 0) this.lastEventId = rows[rows.length - 1].id;
  }

  close(): void {
    for (const off of this.unsubscribe) off();
  }
}
