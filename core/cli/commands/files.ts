import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_PAGE, FILE_STATES, MAX_PAGE, type FileState } from '../../store/journal-repository';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';
import { printPage, listQuery, type ListOptions } from './files-list';
import { showFile } from './files-show';

function parseState(value: string): FileState {
  if (!(FILE_STATES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${FILE_STATES.join(', ')}`);
  return value as FileState;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_PAGE}`);
  return n;
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
    .action(async (opts: ListOptions) => {
      printPage(await ctx.store.journal.list(listQuery(opts)), opts, {
        print: (line) => ctx.print(line), printJson: (value) => ctx.printJson(value), printNote: (line) => process.stderr.write(`${line}\n`),
      });
    });

  files.command('show')
    .description("one file's details and timeline")
    .argument('<file-id>')
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      // `files --json` is also an option of the parent: `files show X --json` may land there.
      opts = { json: opts.json || files.opts<{ json?: boolean }>().json };
      const { journal } = ctx.store;
      const file = await journal.get(id);
      showFile(id, file, file ? await journal.events(id) : [], opts.json === true, ctx);
    });
};
