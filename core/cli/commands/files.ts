import { InvalidArgumentError, type Command } from 'commander';
import { parseAsOf } from '../../cron/as-of';
import { DEFAULT_PAGE, FILE_STATES, MAX_PAGE, type FileState } from '../../store/journal-repository';
import { fileView } from '../../intake/file-view';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';
import { table } from '../../text-table';
import { showFile } from './files-show';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

function parseState(value: string): FileState {
  if (!(FILE_STATES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${FILE_STATES.join(', ')}`);
  return value as FileState;
}

function printTable(ctx: CliContext, rows: string[][]): void {
  for (const line of table(rows[0], rows.slice(1))) ctx.print(line);
}

interface ListOptions {
  account?: string; state?: FileState; flux?: string; since?: string; search?: string; limit?: number; cursor?: string; json?: boolean;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_PAGE}`);
  return n;
}

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

export const registerFileCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const files = program.command('files')
    .description(`the file journal, newest first, a page at a time (${DEFAULT_PAGE} files unless --limit): every received file, its state and outcome`)
    .option('--account <id>', 'only this account')
    .option('--state <state>', `only files in this state (${FILE_STATES.join(', ')})`, parseState)
    .option('--flux <flux>', 'only files of this flux')
    .option('--since <date>', 'only files received since this date (ISO 8601, or -Nd: N days ago)')
    .option('--search <text>', 'only the file with this id, or files whose name or outcome summary contains this text (any case)')
    .option('--limit <n>', `files per page (default ${DEFAULT_PAGE}, at most ${MAX_PAGE})`, parseLimit)
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .option('--json', JSON_HELP)
    .action((opts: ListOptions) => {
      const page = ctx.sqlite.journal().list({
        accountId: opts.account, state: opts.state, flux: opts.flux, q: opts.search, limit: opts.limit, cursor: opts.cursor,
        since: opts.since === undefined ? undefined : parseAsOf(opts.since, Date.now(), '--since'),
      });
      // The JSON stays an array of files; where more follow, how to get them goes to stderr.
      const more = page.nextCursor ? `more files: ${nextPageCommand(opts, page.nextCursor)}` : undefined;
      if (opts.json) {
        ctx.printJson(page.files.map(fileView));
        if (more) process.stderr.write(`${more}\n`);
        return;
      }
      if (page.files.length === 0) return ctx.print('no files');
      const rows = [['ID', 'ACCOUNT', 'FLUX', 'STATE', 'RECEIVED', 'NAME', 'OUTCOME']];
      for (const f of page.files) {
        rows.push([f.id, f.accountId, f.flux ?? '-', f.state, iso(f.receivedAt)!, f.name,
          f.outcome ? `${f.outcome.code ? `${f.outcome.code} ` : ''}${f.outcome.summary ?? ''}`.trim() : '']);
      }
      printTable(ctx, rows);
      if (more) ctx.print(more);
    });

  files.command('show')
    .description("one file's details and timeline")
    .argument('<file-id>')
    .option('--json', JSON_HELP)
    .action((id: string, opts: { json?: boolean }) => {
      // `files --json` is also an option of the parent: `files show X --json` may land there.
      opts = { json: opts.json || files.opts<{ json?: boolean }>().json };
      showFile(ctx.sqlite.journal(), id, opts.json === true, ctx);
    });
};
