import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/logger';
import type { Service } from '../tokens';
import type { Database } from './database';

/**
 * Moves SQLite's WAL checkpoints off the main thread while the server runs. By default the
 * connection that commits past 1000 WAL pages copies them into the database file and fsyncs,
 * inside that commit: on a 200,000-row file that is a large share of the main thread's time,
 * and the event loop (SFTP sessions) waits through it. Here the server's connection never
 * checkpoints; a worker thread with its own connection runs PASSIVE checkpoints (they never
 * block writers or readers) a few times a second. The worker costs about 16 MB, so it starts
 * only once the WAL outgrows `startBytes`; until then, and after stop(), SQLite's own
 * automatic checkpoint applies. Other processes (CLI commands) keep the default behaviour.
 */
export class WalCheckpointer implements Service {
  readonly name = 'wal-checkpointer';
  private timer?: NodeJS.Timeout;
  private worker?: Worker;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: { startBytes?: number; checkIntervalMs?: number; checkpointIntervalMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    if (this.db.memory) return;
    this.db.pragma('wal_autocheckpoint = 0');
    // A WAL that grew during a big file is cut back to this size when it next restarts.
    this.db.pragma('journal_size_limit = 67108864');
    this.timer = setInterval(() => this.check(), this.options.checkIntervalMs ?? 500);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.worker?.terminate();
    this.worker = undefined;
    if (this.db.open && !this.db.memory) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /** True once the checkpoint worker runs (for tests and logs). */
  get running(): boolean { return this.worker !== undefined; }

  private check(): void {
    if (this.worker) return;
    let size = 0;
    try { size = statSync(`${this.db.name}-wal`).size; } catch { return; }
    if (size >= (this.options.startBytes ?? 16 * 1024 * 1024)) this.startWorker();
  }

  private startWorker(): void {
    const worker = new Worker(CHECKPOINT_LOOP, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), file: this.db.name, intervalMs: this.options.checkpointIntervalMs ?? 200 },
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    worker.unref();
    worker.on('error', (err) => {
      this.logger.error({ component: 'store', err }, 'WAL checkpoint worker failed: SQLite checkpoints on commit again');
      if (this.worker === worker) this.worker = undefined;
      clearInterval(this.timer);
      if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    });
    this.worker = worker;
    this.logger.info({ component: 'store', wal: `${this.db.name}-wal` }, 'WAL checkpoints moved to a worker thread');
  }
}

// Plain JavaScript (no TypeScript loader in the worker): open, then checkpoint on a timer.
// busy_timeout 0: a checkpoint that cannot start now is simply retried at the next tick.
const CHECKPOINT_LOOP = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { if (err.code !== 'SQLITE_BUSY') throw err; }
}, workerData.intervalMs);
`;
