import { FluxgateError } from '../errors';
import type { Database } from './database';
import { JournalRepository, type FileState, type JournalFile } from './journal-repository';

export interface FileSearch {
  accountId?: string;
  flux?: string;
  state?: FileState;
  /** Received at or after (epoch ms). */
  since?: number;
  /** Text found in the file name or its outcome's summary (case-insensitive). */
  q?: string;
  limit: number;
  /** The previous page's `nextCursor`. */
  cursor?: string;
}

export interface FilePage { files: JournalFile[]; nextCursor: string | null }

function decodeCursor(cursor: string): { receivedAt: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const receivedAt = Number(at);
  if (!id || !Number.isFinite(receivedAt)) throw new FluxgateError('FG_BAD_REQUEST', `cursor "${cursor}" is not one this server gave: use the nextCursor of the previous page`);
  return { receivedAt, id };
}

const encodeCursor = (f: JournalFile): string => Buffer.from(`${f.receivedAt}|${f.id}`).toString('base64url');

/** The journal newest first, filtered, a page at a time (keyset pagination: stable while files arrive). */
export function searchFiles(db: Database, s: FileSearch): FilePage {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: s.limit + 1 };
  if (s.accountId) { where.push('account_id = @accountId'); params.accountId = s.accountId; }
  if (s.flux) { where.push('flux = @flux'); params.flux = s.flux; }
  if (s.state) { where.push('state = @state'); params.state = s.state; }
  if (s.since !== undefined) { where.push('received_at >= @since'); params.since = s.since; }
  if (s.q) {
    where.push(`(name LIKE @q ESCAPE '\\' OR id = @qExact OR COALESCE(json_extract(outcome, '$.summary'), '') LIKE @q ESCAPE '\\')`);
    params.q = `%${s.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    params.qExact = s.q;
  }
  if (s.cursor) {
    const c = decodeCursor(s.cursor);
    where.push('(received_at < @cAt OR (received_at = @cAt AND id < @cId))');
    params.cAt = c.receivedAt;
    params.cId = c.id;
  }
  const ids = db.prepare(`SELECT id FROM files ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, id DESC LIMIT @limit`)
    .pluck().all(params) as string[];
  const journal = new JournalRepository(db);
  const files = ids.slice(0, s.limit).map((id) => journal.get(id)!).filter(Boolean);
  return { files, nextCursor: ids.length > s.limit ? encodeCursor(files[files.length - 1]) : null };
}
