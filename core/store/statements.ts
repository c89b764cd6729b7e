import type { Statement } from 'better-sqlite3';
import type { Database } from './database';

const caches = new WeakMap<Database, Map<string, Statement>>();

/**
 * The connection's statement for this SQL, prepared once: preparing costs about as much as
 * running a lookup by key, and `account import` runs tens of them per row. Only for get, all
 * and run: a statement being iterated is busy until the iteration ends.
 */
export function statement(db: Database, sql: string): Statement {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map<string, Statement>()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}
