import type { Database } from './database';
import { encodeCursor, listParams, listSql, shapeKey, shapeOf, type JournalQuery } from './journal-query';
import { toFile, type FileEvent, type FileRow, type JournalFile } from './journal-types';
import type { JournalPage } from './ports/journal';
import type { ReadConnection } from './read-only-database';

export type { JournalPage } from './ports/journal';

/**
 * The journal's reads that `fluxgate files` and `files show` make, synchronously: a file, its
 * timeline, a page. Apart from SqliteJournalRepository (which serves them async, the port's
 * JournalReader), so that the CLI's short way
 * (core/cli/fast-path.ts) prepares three statements and loads none of the writes' modules
 * (the accounts', the queue's, the event outbox's).
 */
type Statement = ReturnType<ReadConnection['prepare']>;

/** On the engine's better-sqlite3 connection (SqliteJournalRepository), or a read-only one of node:sqlite (the CLI's short way). */
export class JournalReads<D extends Database | ReadConnection = Database> {
  private readonly byId: Statement;
  private readonly eventsOf: Statement;
  private readonly lists = new Map<string, Statement>();

  constructor(readonly db: D) {
    this.byId = db.prepare('SELECT * FROM files WHERE id = ?');
    this.eventsOf = db.prepare('SELECT * FROM file_events WHERE file_id = ? ORDER BY id');
  }

  get(id: string): JournalFile | undefined {
    const row = this.byId.get(id) as FileRow | undefined;
    return row && toFile(row);
  }

  /** One page of the journal, newest first (see JournalQuery). */
  list(query: JournalQuery = {}): JournalPage {
    const shape = shapeOf(query);
    const key = shapeKey(shape);
    let statement = this.lists.get(key);
    if (!statement) this.lists.set(key, statement = this.db.prepare(listSql(shape)));
    const params = listParams(query);
    const rows = statement.all(params) as FileRow[];
    const more = rows.length === (params.limit as number);
    const files = (more ? rows.slice(0, -1) : rows).map(toFile);
    const last = files[files.length - 1];
    return { files, nextCursor: more && last ? encodeCursor(last.receivedAt, last.id) : null };
  }

  events(fileId: string): FileEvent[] {
    return (this.eventsOf.all(fileId) as Array<{ id: number; file_id: string; at: number; type: string; detail: string }>)
      .map((e) => ({ id: e.id, fileId: e.file_id, at: e.at, type: e.type, detail: JSON.parse(e.detail) as Record<string, unknown> }));
  }
}
