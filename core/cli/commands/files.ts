import { InvalidArgumentError, type Command } from 'commander';
import { FluxgateError } from '../../errors';
import { parseAsOf } from '../../cron/as-of';
import { DEFAULT_PAGE, FILE_STATES, MAX_PAGE, type FileState } from '../../store/journal-repository';
import { eventView, fileView } from '../../intake/file-view';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';
import { printable, table } from '../../text-table';

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
      const journal = ctx.sqlite.journal();
      const file = journal.get(id);
      if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal (see fluxgate files)`);
      const timeline = journal.events(id);
      if (opts.json) return ctx.printJson({ ...fileView(file), events: timeline.map(eventView) });
      for (const [k, v] of Object.entries(fileView(file))) {
        if (v === null || v === undefined) continue;
        ctx.print(`${k.padEnd(12)} ${printable(v)}`);
      }
      ctx.print('');
      ctx.print('timeline:');
      for (const e of timeline) {
        const detail = Object.entries(e.detail).filter(([k]) => k !== 'messages')
          .map(([k, v]) => `${k}=${printable(v)}`).join(' ');
        ctx.print(`  ${iso(e.at)}  ${e.type.padEnd(14)} ${detail}`.trimEnd());
        const messages = e.detail.messages;
        if (Array.isArray(messages)) {
          for (const m of messages as Array<Record<string, unknown>>) {
            // Where first (line, column, field as the file names it), as the report's columns.
            const where = [m.line ? `line ${printable(m.line)}` : '', m.column ? `column ${printable(m.column)}` : '', m.field ? `field ${printable(m.field)}` : ''];
            ctx.print(`      ${[...where, m.severity, m.code, m.entityId, m.message].filter(Boolean).join('  ')}`);
          }
        }
      }
    });
};
