import { FluxgateError } from '../errors';
import type { FileState } from './journal-types';

/**
 * A page of the journal, newest first, with keyset pagination: the cursor is the last row's
 * (received_at, id), so the next page starts in the index where the last one ended, however deep
 * (an OFFSET would read and skip every earlier row). Used by `fluxgate files` and the HTTP API.
 */
export interface JournalQuery {
  accountId?: string;
  flux?: string;
  state?: FileState;
  /** Received at or after this time (epoch ms). */
  since?: number;
  /** A file id, or text in the file name or its outcome's summary (any case). */
  q?: string;
  /** Rows per page: 1 to MAX_PAGE (default DEFAULT_PAGE). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 10_000;

/** Which filters a query uses: one prepared statement per shape. */
export interface QueryShape {
  account: boolean; flux: boolean; state: boolean; since: boolean; q: boolean; cursor: boolean;
}

export function shapeOf(query: JournalQuery): QueryShape {
  return {
    account: query.accountId !== undefined, flux: query.flux !== undefined, state: query.state !== undefined,
    since: query.since !== undefined, q: query.q !== undefined && query.q !== '', cursor: query.cursor !== undefined,
  };
}

export function shapeKey(shape: QueryShape): string {
  return Object.entries(shape).filter(([, on]) => on).map(([k]) => k).join(',');
}

/**
 * The SQL of a shape. The indexes of migration 011 serve it without a sort: (account_id, state,
 * received_at, id), (account_id, received_at, id), (state, received_at, id), (received_at, id);
 * flux and q filter the rows those ranges give.
 */
export function listSql(shape: QueryShape): string {
  const where: string[] = [];
  if (shape.account) where.push('account_id = @accountId');
  if (shape.state) where.push('state = @state');
  if (shape.flux) where.push('flux = @flux');
  if (shape.since) where.push('received_at >= @since');
  if (shape.q) where.push(`(id = @q OR instr(lower(name), lower(@q)) > 0 OR instr(lower(COALESCE(json_extract(outcome, '$.summary'), '')), lower(@q)) > 0)`);
  if (shape.cursor) where.push('(received_at, id) < (@cursorAt, @cursorId)');
  return `SELECT * FROM files ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, id DESC LIMIT @limit`;
}

/** Named parameters of a query (the limit asks one row more, to know whether a next page exists). */
export function listParams(query: JournalQuery): Record<string, unknown> {
  const limit = query.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new FluxgateError('FG_USAGE', `the page size must be a whole number from 1 to ${MAX_PAGE} (got ${String(limit)})`);
  }
  const params: Record<string, unknown> = { limit: limit + 1 };
  if (query.accountId !== undefined) params.accountId = query.accountId;
  if (query.state !== undefined) params.state = query.state;
  if (query.flux !== undefined) params.flux = query.flux;
  if (query.since !== undefined) params.since = query.since;
  if (query.q) params.q = query.q;
  if (query.cursor !== undefined) {
    const c = decodeCursor(query.cursor);
    params.cursorAt = c.receivedAt;
    params.cursorId = c.id;
  }
  return params;
}

export function encodeCursor(receivedAt: number, id: string): string {
  return Buffer.from(`${receivedAt}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { receivedAt: number; id: string } {
  const m = /^(\d{1,16}):(f_[\w]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) {
    throw new FluxgateError('FG_CURSOR', `"${cursor}" is not a page cursor of the journal: pass the nextCursor a previous page gave, unchanged`, { cursor });
  }
  return { receivedAt: Number(m[1]), id: m[2] };
}
