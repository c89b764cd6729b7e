import { AttributeShapes } from './attribute-shapes';
import type { Database } from './database';
import { holderMayBeAlive } from './process-alive';
import { statement } from './statements';

import type { AccountRowCounts, DirectoryCounts, ExportRow, LiveLease } from './ports/account-data';

export type { AccountRowCounts, DirectoryCounts, ExportRow, LiveLease } from './ports/account-data';

export const DIRECTORY_TABLES: ReadonlyArray<[keyof DirectoryCounts, string, string]> = [
  ['organizations', 'dir_organizations', 'code'],
  ['employees', 'dir_employees', 'organization_code, registration_reference'],
  ['users', 'dir_users', 'login'],
  ['documents', 'dir_documents', 'external_reference'],
  ['employeeVersions', 'dir_employee_versions', 'file_id, organization_code, registration_reference'],
];

/** Columns stored as JSON text, given back parsed in exports. */
const JSON_COLUMNS = new Set(['data', 'outcome', 'naming', 'detail', 'organization_codes', 'payload']);

const FILES_OF = 'SELECT id FROM files WHERE account_id = @id';

/** The DirectoryCounts names, in DIRECTORY_TABLES order (the sections of a removal's directory export). */
export const DIRECTORY_SECTIONS: ReadonlyArray<keyof DirectoryCounts> = DIRECTORY_TABLES.map(([name]) => name);

/**
 * Everything an account owns in the database beyond its row and keys: directory rows, the file
 * journal and its events, outputs, queue jobs, inactivity marks, retention's first-seen
 * registry, synchronously: the steps of SqliteAccountDataRepository's units of work (`account
 * remove`) and of the purge's (delete the directory rows). Reads are ordered by key so that two
 * exports of the same rows are the same text: the removal compares them to know nothing changed
 * in between.
 */
export class AccountDataRows {
  private readonly shapes: AttributeShapes;

  constructor(private readonly db: Database) {
    this.shapes = new AttributeShapes(db);
  }

  counts(accountId: string): AccountRowCounts {
    const one = (sql: string): number => statement(this.db, sql).pluck().get({ id: accountId }) as number;
    return {
      accounts: one('SELECT count(*) FROM accounts WHERE id = @id'),
      keys: one('SELECT count(*) FROM account_keys WHERE account_id = @id'),
      ...this.directoryCounts(accountId),
      files: one('SELECT count(*) FROM files WHERE account_id = @id'),
      fileEvents: one(`SELECT count(*) FROM file_events WHERE file_id IN (${FILES_OF})`),
      outputs: one('SELECT count(*) FROM outputs WHERE account_id = @id'),
      queue: one('SELECT count(*) FROM queue WHERE account_id = @id'),
      inactivityMarks: one('SELECT count(*) FROM inactivity_marks WHERE account_id = @id'),
      retentionSeen: one('SELECT count(*) FROM retention_seen WHERE account_id = @id'),
    };
  }

  directoryCounts(accountId: string): DirectoryCounts {
    return this.perDirectoryTable((table) => statement(this.db, `SELECT count(*) FROM ${table} WHERE account_id = ?`).pluck().get(accountId) as number);
  }

  /**
   * Jobs of the account leased by a worker whose lease still runs: files being processed right
   * now (the worker extends its lease while it works). A `processing` file whose lease ran out
   * was cut short by a stop or a crash: nothing works on it.
   */
  liveLeases(accountId: string, now = Date.now()): LiveLease[] {
    return (this.db.prepare(`SELECT q.id, q.lease_until, q.leased_pid, q.leased_host, f.id AS file_id, f.name FROM queue q
        LEFT JOIN files f ON f.id = json_extract(q.payload, '$.fileId')
        WHERE q.account_id = ? AND q.state = 'leased' AND q.lease_until >= ? ORDER BY q.id`).all(accountId, now) as Array<{
      id: number; lease_until: number; leased_pid: number | null; leased_host: string | null; file_id: string | null; name: string | null;
    }>)
      // A lease a crashed server left runs for engine.leaseMs more: its holder is gone.
      .filter((r) => holderMayBeAlive(r.leased_pid, r.leased_host))
      .map((r) => ({ jobId: r.id, fileId: r.file_id, fileName: r.name, leaseUntil: r.lease_until }));
  }

  /**
   * The account's directory rows of one table, in key order; employees' `data` is their attributes
   * object, employee versions' `data` the whole employee.
   */
  *directoryRows(accountId: string, table: keyof DirectoryCounts): Generator<ExportRow> {
    const [, name, order] = DIRECTORY_TABLES.find(([t]) => t === table)!;
    for (const row of this.db.prepare(`SELECT * FROM ${name} WHERE account_id = ? ORDER BY ${order}`).iterate(accountId) as Iterable<ExportRow>) {
      // Employees' attributes may be stored in the shaped form, meaningless without dir_attribute_shapes.
      yield table === 'employees' ? { ...row, data: this.shapes.decode(row.data as string) } : parsed(row);
    }
  }

  /** The account's journal files in the order they were received, each with its events. */
  *journalFiles(accountId: string): Generator<ExportRow> {
    const events = this.db.prepare('SELECT id, at, type, detail FROM file_events WHERE file_id = ? ORDER BY id');
    for (const row of this.db.prepare('SELECT * FROM files WHERE account_id = ? ORDER BY received_at, id').iterate(accountId) as Iterable<ExportRow>) {
      yield { ...parsed(row), events: (events.all(row.id) as ExportRow[]).map(parsed) };
    }
  }

  *outputs(accountId: string): Generator<ExportRow> {
    yield* this.db.prepare('SELECT * FROM outputs WHERE account_id = ? ORDER BY id').iterate(accountId) as Iterable<ExportRow>;
  }

  /**
   * Deletes every row of the account but its tombstones, its account row included; the
   * caller's transaction makes it all or nothing. Returns what was deleted.
   */
  deleteAll(accountId: string): AccountRowCounts {
    const del = (sql: string): number => this.db.prepare(sql).run({ id: accountId }).changes;
    const fileEvents = del(`DELETE FROM file_events WHERE file_id IN (${FILES_OF})`);
    const outputs = del('DELETE FROM outputs WHERE account_id = @id');
    const files = del('DELETE FROM files WHERE account_id = @id');
    const queue = del('DELETE FROM queue WHERE account_id = @id');
    const directory = this.deleteDirectory(accountId);
    const inactivityMarks = del('DELETE FROM inactivity_marks WHERE account_id = @id');
    const retentionSeen = del('DELETE FROM retention_seen WHERE account_id = @id');
    const keys = del('DELETE FROM account_keys WHERE account_id = @id');
    const accounts = del('DELETE FROM accounts WHERE id = @id');
    return { accounts, keys, ...directory, files, fileEvents, outputs, queue, inactivityMarks, retentionSeen };
  }

  /** Deletes the account's directory rows (organizations, employees, users, documents, employee versions). */
  deleteDirectory(accountId: string): DirectoryCounts {
    return this.perDirectoryTable((table) => this.db.prepare(`DELETE FROM ${table} WHERE account_id = ?`).run(accountId).changes);
  }

  private perDirectoryTable(rows: (table: string) => number): DirectoryCounts {
    const counts = { organizations: 0, employees: 0, users: 0, documents: 0, employeeVersions: 0 };
    for (const [name, table] of DIRECTORY_TABLES) counts[name] = rows(table);
    return counts;
  }

  /** Runs `fn` in a transaction that holds the write lock from its start: no other writer interleaves. */
  exclusive<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}

/** An exported row: its JSON columns parsed. */
export function parsed(row: ExportRow): ExportRow {
  const out: ExportRow = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = JSON_COLUMNS.has(key) && typeof value === 'string' ? JSON.parse(value) as unknown : value;
  }
  return out;
}

export function totalRows(counts: object): number {
  return Object.values(counts).reduce<number>((sum, n) => sum + (typeof n === 'number' ? n : 0), 0);
}
