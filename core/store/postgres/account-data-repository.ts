import { DIRECTORY_TABLES, parsed } from '../account-data-repository';
import { decodeAttributes } from '../attribute-shapes';
import type {
  AccountDataRepository, AccountRowCounts, AccountSections, DirectoryCounts, ExportRow, LiveLease, RowRemoval,
} from '../ports/account-data';
import { holderMayBeAlive } from '../process-alive';
import type { PgPool, Queryable } from './pool';

const FILES_OF = 'SELECT id FROM files WHERE account_id = $1';

/** Every table's rows of the account but its tombstones, counted by one statement (fixed SQL). */
const COUNTS: ReadonlyArray<[keyof AccountRowCounts, string]> = [
  ['accounts', 'SELECT count(*) FROM accounts WHERE id = $1'],
  ['keys', 'SELECT count(*) FROM account_keys WHERE account_id = $1'],
  ...DIRECTORY_TABLES.map(([name, table]): [keyof AccountRowCounts, string] => [name, `SELECT count(*) FROM ${table} WHERE account_id = $1`]),
  ['files', 'SELECT count(*) FROM files WHERE account_id = $1'],
  ['fileEvents', `SELECT count(*) FROM file_events WHERE file_id IN (${FILES_OF})`],
  ['outputs', 'SELECT count(*) FROM outputs WHERE account_id = $1'],
  ['queue', 'SELECT count(*) FROM queue WHERE account_id = $1'],
  ['inactivityMarks', 'SELECT count(*) FROM inactivity_marks WHERE account_id = $1'],
  ['retentionSeen', 'SELECT count(*) FROM retention_seen WHERE account_id = $1'],
];

/**
 * What an account owns beyond its row, in PostgreSQL: for `account remove`. Exports are read
 * whole (the port's sections are synchronous iterables; an account's rows are read once, in key
 * order). Flags read as booleans and ids as numbers, as PostgreSQL holds them.
 */
export class PostgresAccountDataRepository implements AccountDataRepository {
  constructor(private readonly db: PgPool) {}

  async counts(accountId: string): Promise<AccountRowCounts> {
    const row = await this.db.row<Record<string, number>>(`SELECT ${COUNTS.map(([name, sql]) => `(${sql}) AS "${name}"`).join(', ')}`, [accountId]);
    return Object.fromEntries(COUNTS.map(([name]) => [name, row![name]])) as unknown as AccountRowCounts;
  }

  async liveLeases(accountId: string, now = Date.now()): Promise<LiveLease[]> { return liveLeases(this.db, accountId, now); }

  async sections(accountId: string): Promise<AccountSections> {
    return this.db.transaction(async (tx) => {
      await tx.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY'); // one snapshot for every section
      return readSections(tx, accountId);
    });
  }

  /**
   * In one transaction: the account row locked (intake's unit of work on another node waits),
   * its queue jobs locked (no node claims them meanwhile), refused while a live lease holds one,
   * the rows re-read and given to `unchanged`, then every row but the tombstones deleted.
   */
  async removeAccountRows(accountId: string, unchanged: (current: AccountSections) => boolean, now = Date.now()): Promise<RowRemoval> {
    return this.db.transaction(async (tx) => {
      await tx.run('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
      await tx.run('SELECT 1 FROM queue WHERE account_id = $1 FOR UPDATE', [accountId]);
      const busy = await liveLeases(tx, accountId, now);
      if (busy.length > 0) return { busy };
      if (!unchanged(await readSections(tx, accountId))) return { changed: true };
      return { removed: await deleteAll(tx, accountId) };
    });
  }
}

async function liveLeases(q: Queryable, accountId: string, now: number): Promise<LiveLease[]> {
  const rows = await q.rows<{ id: number; lease_until: number; leased_pid: number | null; leased_host: string | null; file_id: string | null; name: string | null }>(
    `SELECT q.id, q.lease_until, q.leased_pid, q.leased_host, f.id AS file_id, f.name FROM queue q
      LEFT JOIN files f ON f.id = q.payload::json ->> 'fileId'
      WHERE q.account_id = $1 AND q.state = 'leased' AND q.lease_until >= $2 ORDER BY q.id`, [accountId, now]);
  // A lease a crashed process of this machine left runs on: its holder is gone. Another machine's may be alive.
  return rows.filter((r) => holderMayBeAlive(r.leased_pid, r.leased_host))
    .map((r) => ({ jobId: r.id, fileId: r.file_id, fileName: r.name, leaseUntil: r.lease_until }));
}

async function readSections(q: Queryable, accountId: string): Promise<AccountSections> {
  const shapes = new Map((await q.rows<{ id: string; keys: string }>('SELECT id, keys FROM dir_attribute_shapes')).map((r) => [r.id, JSON.parse(r.keys) as string[]]));
  const keysOf = (id: string): readonly string[] => {
    const keys = shapes.get(id);
    if (!keys) throw new Error(`the directory names attribute shape ${id}, which dir_attribute_shapes does not hold`);
    return keys;
  };
  const directory: Array<AccountSections['directory'][number]> = [];
  for (const [name, table, order] of DIRECTORY_TABLES) {
    const rows = (await q.rows<ExportRow>(`SELECT * FROM ${table} WHERE account_id = $1 ORDER BY ${order}`, [accountId]))
      // Employees' attributes may be in the shaped form, meaningless without dir_attribute_shapes.
      .map((row) => (name === 'employees' ? { ...row, data: decodeAttributes(row.data as string, keysOf) } : parsed(row)));
    directory.push({ name, rows: () => rows });
  }
  const events = new Map<string, ExportRow[]>();
  for (const e of await q.rows<ExportRow & { file_id: string }>(`SELECT file_id, id, at, type, detail FROM file_events WHERE file_id IN (${FILES_OF}) ORDER BY id`, [accountId])) {
    const { file_id: fileId, ...event } = e;
    if (!events.has(fileId)) events.set(fileId, []);
    events.get(fileId)!.push(parsed(event));
  }
  const files = (await q.rows<ExportRow>('SELECT * FROM files WHERE account_id = $1 ORDER BY received_at, id', [accountId]))
    .map((row) => ({ ...parsed(row), events: events.get(row.id as string) ?? [] }));
  const outputs = await q.rows<ExportRow>('SELECT * FROM outputs WHERE account_id = $1 ORDER BY id', [accountId]);
  return { directory, journal: [{ name: 'files', rows: () => files }, { name: 'outputs', rows: () => outputs }] };
}

async function deleteAll(q: Queryable, accountId: string): Promise<AccountRowCounts> {
  const del = (sql: string): Promise<number> => q.run(sql, [accountId]);
  const fileEvents = await del(`DELETE FROM file_events WHERE file_id IN (${FILES_OF})`);
  const outputs = await del('DELETE FROM outputs WHERE account_id = $1');
  const files = await del('DELETE FROM files WHERE account_id = $1');
  const queue = await del('DELETE FROM queue WHERE account_id = $1');
  const directory: DirectoryCounts = { organizations: 0, employees: 0, users: 0, documents: 0, employeeVersions: 0 };
  for (const [name, table] of DIRECTORY_TABLES) directory[name] = await del(`DELETE FROM ${table} WHERE account_id = $1`);
  const inactivityMarks = await del('DELETE FROM inactivity_marks WHERE account_id = $1');
  const retentionSeen = await del('DELETE FROM retention_seen WHERE account_id = $1');
  const keys = await del('DELETE FROM account_keys WHERE account_id = $1');
  const accounts = await del('DELETE FROM accounts WHERE id = $1');
  return { accounts, keys, ...directory, files, fileEvents, outputs, queue, inactivityMarks, retentionSeen };
}
