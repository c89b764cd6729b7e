import { parseAsOf } from '../../cron/as-of';
import { fileView } from '../../intake/file-view';
import type { JournalQuery } from '../../store/journal-query';
import type { JournalPage } from '../../store/ports/journal';
import type { FileState } from '../../store/journal-types';
import { table } from '../../text-table';

/** The filters and page of `fluxgate files`, as parsed options. */
export interface ListOptions {
  account?: string; state?: FileState; flux?: string; since?: string; search?: string; limit?: number; cursor?: string; json?: boolean;
}

export interface ListOutput {
  print(line?: string): void;
  printJson(value: unknown): void;
  /** Where the JSON output says that more files follow: stderr, so that stdout stays an array. */
  printNote(line: string): void;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The command that shows the next page: the same filters, and the cursor. */
function nextPageCommand(opts: ListOptions, cursor: string): string {
  const args = ['fluxgate files'];
  if (opts.account) args.push(`--account ${opts.account}`);
  if (opts.state) args.push(`--state ${opts.state}`);
  if (opts.flux) args.push(`--flux ${opts.flux}`);
  if (opts.since) args.push(`--since ${opts.since}`);
  if (opts.search) args.push(`--search ${JSON.stringify(opts.search)}`);
  if (opts.limit) args.push(`--limit ${opts.limit}`);
  if (opts.json) args.push('--json');
  return [...args, `--cursor ${cursor}`].join(' ');
}

/** The journal query of `fluxgate files`' options (FG_USAGE for a bad --since). */
export function listQuery(opts: ListOptions): JournalQuery {
  return {
    accountId: opts.account, state: opts.state, flux: opts.flux, q: opts.search, limit: opts.limit, cursor: opts.cursor,
    since: opts.since === undefined ? undefined : parseAsOf(opts.since, Date.now(), '--since'),
  };
}

/**
 * `fluxgate files`: a page of the journal (read with listQuery), newest first, as a table or JSON. Its own module,
 * without commander or the configuration's schemas: the fast path (core/cli/fast-path.ts) runs
 * it too.
 */
export function printPage(page: JournalPage, opts: ListOptions, out: ListOutput): void {
  const more = page.nextCursor ? `more files: ${nextPageCommand(opts, page.nextCursor)}` : undefined;
  if (opts.json) {
    out.printJson(page.files.map(fileView));
    if (more) out.printNote(more);
    return;
  }
  if (page.files.length === 0) return out.print('no files');
  const rows = [['ID', 'ACCOUNT', 'FLUX', 'STATE', 'RECEIVED', 'NAME', 'OUTCOME']];
  for (const f of page.files) {
    rows.push([f.id, f.accountId, f.flux ?? '-', f.state, iso(f.receivedAt)!, f.name,
      f.outcome ? `${f.outcome.code ? `${f.outcome.code} ` : ''}${f.outcome.summary ?? ''}`.trim() : '']);
  }
  for (const line of table(rows[0], rows.slice(1))) out.print(line);
  if (more) out.print(more);
}
