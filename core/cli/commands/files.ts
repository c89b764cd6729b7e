import { InvalidArgumentError, type Command } from 'commander';
import { FluxgateError } from '../../errors';
import { FILE_STATES, JournalRepository, type FileState } from '../../store/journal-repository';
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

export const registerFileCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const files = program.command('files')
    .description('the file journal: every received file, its state and outcome')
    .option('--account <id>', 'only this account')
    .option('--state <state>', `only files in this state (${FILE_STATES.join(', ')})`, parseState)
    .option('--json', JSON_HELP)
    .action((opts: { account?: string; state?: FileState; json?: boolean }) => {
      const list = new JournalRepository(ctx.db).list({ accountId: opts.account, state: opts.state });
      if (opts.json) return ctx.printJson(list.map(fileView));
      if (list.length === 0) return ctx.print('no files');
      const rows = [['ID', 'ACCOUNT', 'FLUX', 'STATE', 'RECEIVED', 'NAME', 'OUTCOME']];
      for (const f of list) {
        rows.push([f.id, f.accountId, f.flux ?? '-', f.state, iso(f.receivedAt)!, f.name,
          f.outcome ? `${f.outcome.code ? `${f.outcome.code} ` : ''}${f.outcome.summary ?? ''}`.trim() : '']);
      }
      printTable(ctx, rows);
    });

  files.command('show')
    .description("one file's details and timeline")
    .argument('<file-id>')
    .option('--json', JSON_HELP)
    .action((id: string, opts: { json?: boolean }) => {
      // `files --json` is also an option of the parent: `files show X --json` may land there.
      opts = { json: opts.json || files.opts<{ json?: boolean }>().json };
      const journal = new JournalRepository(ctx.db);
      const file = journal.get(id);
      if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal (see fluxgate files)`);
      const events = journal.events(id).map(eventView);
      if (opts.json) return ctx.printJson({ ...fileView(file), events });
      for (const [k, v] of Object.entries(fileView(file))) {
        if (v === null || v === undefined) continue;
        ctx.print(`${k.padEnd(12)} ${printable(v)}`);
      }
      ctx.print('');
      ctx.print('timeline:');
      for (const e of journal.events(id)) {
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
