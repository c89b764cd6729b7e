import { DatabaseSync } from 'node:sqlite';

/** What the journal's reads need of a connection (JournalReader): statements that get and list rows. */
export interface ReadConnection {
  prepare(sql: string): { get(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
  close(): void;
}

/**
 * The database opened to read only, as it is: no migration (their modules are not even loaded),
 * nothing created. For the CLI's short way (core/cli/fast-path.ts): a store that is missing, or
 * older than this build, fails its first query, and the caller then takes the usual way
 * (openDatabase, which migrates). Node's own SQLite (`node:sqlite`, built in from Node 22.13),
 * not better-sqlite3: no native addon to load, ~7 ms less of a command that takes ~45
 * (docs/benchmarks.md, bench:journal). Same file, same SQL: only reads go through it.
 */
export function openDatabaseToRead(file: string): ReadConnection {
  return new DatabaseSync(file, { readOnly: true, timeout: 10_000 });
}
