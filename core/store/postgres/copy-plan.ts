import type { Database } from '../database';
import type { ClientBase } from 'pg';
import { FluxgateError } from '../../errors';

/** One table to copy: its name, the columns both stores have (SQLite's order), and how each converts. */
export interface TableCopy {
  table: string;
  columns: string[];
  /** Per column: PostgreSQL's type is boolean (SQLite holds 0/1). */
  booleans: boolean[];
}

/**
 * Tables of SQLite's own, and each engine's bookkeeping: the migrations', and the count of account
 * changes (migration 018: PostgreSQL's triggers keep it, SQLite leaves it empty).
 */
const NOT_COPIED = (name: string): boolean => name.startsWith('sqlite_') || name === 'schema_migrations' || name === 'account_changes';

/**
 * Every table of the SQLite database, listed from sqlite_master (so a table a later migration
 * adds is copied without a change here), parents before the tables whose foreign keys point at
 * them. A table or column PostgreSQL lacks is FG_STORE_SCHEMA: its schema is behind.
 */
export async function planCopy(db: Database, pg: ClientBase): Promise<TableCopy[]> {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>)
    .map((r) => r.name).filter((name) => !NOT_COPIED(name));
  const pgColumns = new Map<string, Map<string, string>>();
  const rows = await pg.query<{ table_name: string; column_name: string; data_type: string }>(
    'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()');
  for (const r of rows.rows) {
    if (!pgColumns.has(r.table_name)) pgColumns.set(r.table_name, new Map());
    pgColumns.get(r.table_name)!.set(r.column_name, r.data_type);
  }
  const plans = tables.map((table): TableCopy => {
    const target = pgColumns.get(table);
    if (!target) throw schemaError(`the PostgreSQL database has no table ${table}`);
    const columns = (db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').all(table) as Array<{ name: string }>).map((c) => c.name);
    const missing = columns.filter((c) => !target.has(c));
    if (missing.length > 0) throw schemaError(`the PostgreSQL table ${table} has no column ${missing.join(', ')}`);
    return { table, columns, booleans: columns.map((c) => target.get(c) === 'boolean') };
  });
  return inDependencyOrder(db, plans);
}

function schemaError(what: string): FluxgateError {
  return new FluxgateError('FG_STORE_SCHEMA', `${what}: its schema is behind the SQLite one. Update fluxgate on this machine, or add the PostgreSQL twin of the SQLite migration (core/store/postgres/migrations)`);
}

/** Parents first: the foreign keys are checked at each insert, so a child row needs its parent there. */
function inDependencyOrder(db: Database, plans: TableCopy[]): TableCopy[] {
  const byName = new Map(plans.map((p) => [p.table, p]));
  const ordered: TableCopy[] = [];
  const visiting = new Set<string>();
  const visit = (plan: TableCopy): void => {
    if (ordered.includes(plan) || visiting.has(plan.table)) return; // a cycle would need deferred constraints: none exists
    visiting.add(plan.table);
    for (const fk of db.prepare('SELECT "table" AS parent FROM pragma_foreign_key_list(?)').all(plan.table) as Array<{ parent: string }>) {
      const parent = byName.get(fk.parent);
      if (parent && parent !== plan) visit(parent);
    }
    visiting.delete(plan.table);
    ordered.push(plan);
  };
  for (const plan of plans) visit(plan);
  return ordered;
}
