import BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database';

/**
 * The database opened to read only, as it is: no migration (their modules are not even loaded),
 * nothing created. For the CLI's fast path (core/cli/fast-path.ts): a store that is missing, or
 * older than this build, fails its first query, and the caller then takes the usual way
 * (openDatabase, which migrates).
 */
export function openDatabaseToRead(file: string): Database {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  return db;
}
