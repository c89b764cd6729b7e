import type { StagingArea } from '../plugin-api/directory';
import type { Database } from './database';

let counter = 0;
const BATCH = 1000;

/**
 * A StagingArea in SQLite's temp schema (per connection, never in the WAL of the main
 * database, gone when the connection closes). Adds are buffered and inserted in batches.
 */
export class SqliteStaging implements StagingArea {
  private readonly table = `staging_${process.pid}_${++counter}`;
  private pending: Array<[number, string, string]> = [];
  private count = 0;
  private dropped = false;
  private readonly insert;

  constructor(private readonly db: Database) {
    db.exec(`CREATE TEMP TABLE ${this.table} (seq INTEGER PRIMARY KEY, line INTEGER NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL)`);
    this.insert = db.prepare(`INSERT INTO temp.${this.table} (line, key, payload) VALUES (?, ?, ?)`);
  }

  get size(): number { return this.count; }

  add(line: number, key: string, payload: string): void {
    this.pending.push([line, key, payload]);
    this.count++;
    if (this.pending.length >= BATCH) this.flush();
  }

  conflicts(): Array<{ key: string; lines: number[] }> {
    this.flush();
    this.db.exec(`CREATE INDEX IF NOT EXISTS temp.${this.table}_key ON ${this.table} (key)`);
    const rows = this.db.prepare(`SELECT key, line FROM temp.${this.table} WHERE key IN (
        SELECT key FROM temp.${this.table} GROUP BY key HAVING COUNT(DISTINCT payload) > 1)
      ORDER BY key, seq`).all() as Array<{ key: string; line: number }>;
    const byKey = new Map<string, number[]>();
    for (const r of rows) {
      const lines = byKey.get(r.key) ?? [];
      lines.push(r.line);
      byKey.set(r.key, lines);
    }
    return [...byKey].map(([key, lines]) => ({ key, lines }));
  }

  *rows(pageSize = BATCH): Iterable<{ line: number; key: string; payload: string }> {
    this.flush();
    // Paged rather than iterate(): the connection must stay free for the writes between pages.
    const page = this.db.prepare(`SELECT seq, line, key, payload FROM temp.${this.table} WHERE seq > ? ORDER BY seq LIMIT ?`);
    let after = 0;
    for (;;) {
      const rows = page.all(after, pageSize) as Array<{ seq: number; line: number; key: string; payload: string }>;
      if (rows.length === 0) return;
      for (const r of rows) yield { line: r.line, key: r.key, payload: r.payload };
      after = rows[rows.length - 1]!.seq;
    }
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.pending = [];
    if (this.db.open) this.db.exec(`DROP TABLE IF EXISTS temp.${this.table}`);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.db.transaction(() => { for (const row of batch) this.insert.run(...row); })();
  }
}
