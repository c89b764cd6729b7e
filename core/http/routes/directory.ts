import { z } from 'zod';
import type { DirectoryRepository } from '../../store/ports/directory';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { Pagination, responses } from '../schemas';

export const DIRECTORY_KINDS = ['organizations', 'employees', 'users', 'documents'] as const;
export type DirectoryKind = (typeof DIRECTORY_KINDS)[number];
const KINDS = DIRECTORY_KINDS;

export interface DirectoryPage { items: Array<Record<string, unknown>>; total: number; nextCursor: string | null }

/** One page of an account's organizations, employees, users or documents, `q` matched in any field: the API's and the console's. */
export async function directoryPage(repo: DirectoryRepository, accountId: string, kind: DirectoryKind, query: { q?: string; limit: number; cursor?: string }): Promise<DirectoryPage> {
  const list = {
    organizations: (a: string) => repo.listOrganizations(a), employees: (a: string) => repo.listEmployees(a),
    users: (a: string) => repo.listUsers(a), documents: (a: string) => repo.listDocuments(a),
  } as const;
  const { q, limit, cursor } = query;
  let rows = await list[kind](accountId) as unknown as Array<Record<string, unknown>>;
  if (q) {
    const needle = q.toLowerCase();
    rows = rows.filter((r) => Object.values(r).some((v) => v !== null && v !== undefined && (typeof v === 'string' ? v : JSON.stringify(v)).toLowerCase().includes(needle)));
  }
  const offset = cursor && /^\d+$/.test(cursor) ? Number(cursor) : 0;
  const items = rows.slice(offset, offset + limit);
  return { items, total: rows.length, nextCursor: offset + limit < rows.length ? String(offset + limit) : null };
}

/**
 * The HR directory of an account, a page at a time, searchable. Read whole from the store then
 * filtered (as `fluxgate directory`): fine for tens of thousands of rows, not a paged query yet.
 */
export function registerDirectoryRoutes(app: ZodApp, deps: HttpDeps): void {
  const repo = deps.directory;

  app.get('/api/v1/accounts/:id/directory/:kind', {
    schema: {
      summary: "an account's organizations, employees, users or documents", tags: ['directory'],
      params: z.object({ id: z.string(), kind: z.enum(KINDS) }),
      querystring: z.object({ q: z.string().max(200).optional().describe('text in any field (case-insensitive)'), ...Pagination }),
      response: responses({ 200: z.object({ items: z.array(z.record(z.string(), z.unknown())), total: z.number(), nextCursor: z.string().nullable() }) }),
    },
  }, async (request) => {
    const { id, kind } = request.params;
    await deps.accounts.get(id);
    return directoryPage(repo, id, kind, request.query);
  });
}
