import type { Command } from 'commander';
import { FluxgateError } from '../../errors';
import type { DirectoryRepository } from '../../store/ports/directory';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';
import { printable, table as textTable } from '../../text-table';

type Row = Record<string, unknown>;
interface View { description: string; list(repo: DirectoryRepository, account: string): Promise<Row[]>; columns: string[] }

const yesNo = (v: boolean) => (v ? 'yes' : 'no');

/** What each listing shows as text; --json prints the whole entities. */
const VIEWS: Record<string, View> = {
  organizations: {
    description: 'the organization tree (sir files)',
    list: async (r, a) => await r.listOrganizations(a) as unknown as Row[],
    columns: ['code', 'parentCode', 'name'],
  },
  employees: {
    description: 'employees (sal files, drop-box uploads)',
    list: async (r, a) => (await r.listEmployees(a)).map((e) => ({ ...e, active: yesNo(e.active) })),
    columns: ['organizationCode', 'registrationReference', 'lastname', 'firstname', 'email', 'active', 'departureDate'],
  },
  users: {
    description: 'document-management users (usr files)',
    list: async (r, a) => (await r.listUsers(a)).map((u) => ({ ...u, organizationCodes: u.organizationCodes.join('|') })),
    columns: ['login', 'email', 'profileCode', 'organizationCodes'],
  },
  documents: {
    description: 'documents filed in the vault (dis archives)',
    list: async (r, a) => await r.listDocuments(a) as unknown as Row[],
    columns: ['externalReference', 'organizationCode', 'registrationReference', 'documentDate', 'title', 'vaultPath'],
  },
};

function table(rows: Row[], columns: string[]): string[] {
  const cell = (v: unknown) => printable(v).replace(/\s+/g, ' ');
  return textTable(columns, rows.map((r) => columns.map((c) => cell(r[c]))));
}

export const registerDirectoryCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const directory = program.command('directory').description('read the HR directory of an account: organizations, employees, users, documents');
  for (const [name, view] of Object.entries(VIEWS)) {
    directory.command(name)
      .description(`list ${view.description}`)
      .requiredOption('--account <id>', 'account id')
      .option('--json', `${JSON_HELP} (every field)`)
      .action(async (opts: { account: string; json?: boolean }) => {
        if (!await ctx.accounts.get(opts.account)) throw new FluxgateError('FG_ACCOUNT_NOT_FOUND', `no account "${opts.account}"`);
        const repo = ctx.directory();
        if (opts.json) {
          const raw = { organizations: () => repo.listOrganizations(opts.account), employees: () => repo.listEmployees(opts.account),
            users: () => repo.listUsers(opts.account), documents: () => repo.listDocuments(opts.account) }[name]!();
          ctx.printJson(await raw);
          return;
        }
        const rows = await view.list(repo, opts.account);
        if (rows.length === 0) { ctx.print(`no ${name} for account ${opts.account}`); return; }
        for (const l of table(rows, view.columns)) ctx.print(l);
        ctx.print(`${rows.length} ${name}`);
      });
  }
};
