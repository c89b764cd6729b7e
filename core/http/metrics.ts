import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UploadEvents } from '../events';
import type { MetricsSnapshot, OperationsRepository } from '../store/ports/operations';

/**
 * The server's Prometheus metrics. Two sources:
 * - signals of the SFTP server on the injected UploadEvents sink (logins, bans, sessions,
 *   bytes): counted from this process's start, as Prometheus counters are;
 * - the store, read at each scrape: files by flux and state, dead files, queue depth and
 *   the oldest waiting job, job runs. Files that finished since the last scrape are found in the
 *   journal's timeline (their `attempt` and final events), which gives the processing duration
 *   histogram and outcome counter whichever process ran them.
 */
export class FluxgateMetrics {
  readonly registry = new Registry();
  private readonly setFromStore: (s: MetricsSnapshot, now: number) => void;
  private readonly filesFinished: Counter<'flux' | 'outcome'>;
  private readonly duration: Histogram<'flux'>;
  private readonly unsubscribe: Array<() => void> = [];

  private constructor(private readonly store: OperationsRepository, events: UploadEvents, private lastEventId: number) {
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
    const files = new Gauge({ name: 'fluxgate_files', help: 'files in the journal by flux and state', labelNames: ['flux', 'state'], registers });
    const dead = new Gauge({ name: 'fluxgate_files_dead', help: 'files dead after their last attempt (they need an operator: replay)', registers });
    const depth = new Gauge({ name: 'fluxgate_queue_depth', help: 'queue jobs due and waiting for a worker (state ready), and being worked on (leased)', labelNames: ['state'], registers });
    const oldest = new Gauge({ name: 'fluxgate_queue_oldest_waiting_seconds', help: 'how long the oldest due job has waited for a worker (0 when none waits)', registers });
    const jobRuns = new Gauge({ name: 'fluxgate_job_runs', help: 'recorded runs of the scheduled jobs by job and result (ok, failed, interrupted)', labelNames: ['job', 'result'], registers });
    // Read once per scrape (async: the store may be remote), then set.
    this.setFromStore = (s, now) => {
      files.reset();
      for (const r of s.files) files.set({ flux: r.flux, state: r.state }, r.n);
      dead.set(s.dead);
      depth.set({ state: 'ready' }, s.queue.ready);
      depth.set({ state: 'leased' }, s.queue.leased);
      oldest.set(s.queue.oldestReadyAt === null ? 0 : Math.max(0, (now - s.queue.oldestReadyAt) / 1000));
      jobRuns.reset();
      for (const r of s.jobRuns) jobRuns.set({ job: r.job, result: r.outcome }, r.n);
    };
  }

  /** Built once the journal's last event is known: files finished before the server started are not counted. */
  static async create(store: OperationsRepository, events: UploadEvents): Promise<FluxgateMetrics> {
    return new FluxgateMetrics(store, events, await store.lastFileEventId());
  }

  /** The text Prometheus scrapes; first takes in the files finished since the last scrape. */
  async text(): Promise<string> {
    await this.takeFinishedFiles();
    const now = Date.now();
    this.setFromStore(await this.store.metrics(now), now);
    return this.registry.metrics();
  }

  get contentType(): string { return this.registry.contentType; }

  private async takeFinishedFiles(): Promise<void> {
    const rows = await this.store.finishedFilesSince(this.lastEventId);
    for (const r of rows) {
      const flux = r.flux ?? '';
      this.filesFinished.inc({ flux, outcome: r.outcome });
      if (r.began !== null) this.duration.observe({ flux }, Math.max(0, r.at - r.began) / 1000);
    }
    if (rows.length > 0) this.lastEventId = rows[rows.length - 1].eventId;
  }

  close(): void {
    for (const off of this.unsubscribe) off();
  }
}
