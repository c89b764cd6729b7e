import { encodeCursor, listParams, shapeOf, type JournalQuery } from '../journal-query';
import { toFile, type FileRow } from '../journal-types';
import type { JournalPage } from '../ports/journal';
import type { Queryable } from './pool';

/**
 * One page of the journal in PostgreSQL, newest first, keyset-paginated like SQLite's
 * (core/store/journal-query.ts: the same query, cursor and page size rules; migration 011's
 * indexes serve it). The filters present become fixed SQL fragments, their values parameters.
 */
export async function listJournal(q: Queryable, query: JournalQuery = {}): Promise<JournalPage> {
  const shape = shapeOf(query);
  const named = listParams(query); // checks the page size and decodes the cursor (FG_USAGE, FG_CURSOR)
  const values: unknown[] = [];
  const param = (value: unknown): string => { values.push(value); return `$${values.length}`; };
  const where: string[] = [];
  if (shape.account) where.push(`account_id = ${param(named.accountId)}`);
  if (shape.state) where.push(`state = ${param(named.state)}`);
  if (shape.flux) where.push(`flux = ${param(named.flux)}`);
  if (shape.since) where.push(`received_at >= ${param(named.since)}`);
  if (shape.q) {
    const text = param(named.q);
    // A file id, or text in the name or the outcome's summary, any case; strpos: no wildcard characters.
    where.push(`(id = ${text} OR strpos(lower(name), lower(${text})) > 0 OR strpos(lower(COALESCE(outcome::json ->> 'summary', '')), lower(${text})) > 0)`);
  }
  if (shape.cursor) where.push(`(received_at, id) < (${param(named.cursorAt)}, ${param(named.cursorId)})`);
  const limit = named.limit as number;
  const rows = await q.rows<FileRow>(`SELECT * FROM files ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY received_at DESC, id DESC LIMIT ${param(limit)}`, values);
  const more = rows.length === limit;
  const files = (more ? rows.slice(0, -1) : rows).map(toFile);
  const last = files[files.length - 1];
  return { files, nextCursor: more && last ? encodeCursor(last.receivedAt, last.id) : null };
}
