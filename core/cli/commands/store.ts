import type { Command } from 'commander';
import { storeUrlProblem } from '../../config/store-url';
import { FluxgateError } from '../../errors';
import { table } from '../../text-table';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

/*
 * `fluxgate store`: the store's engine (#20, docs/cluster.md "PostgreSQL"). pg and the copy are
 * required only when these commands run: every other command would pay for loading them.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading, see above */
const storeMigrate = (): typeof import('../../store/store-migrate') => require('../../store/store-migrate') as typeof import('../../store/store-migrate');
const storeCopy = (): typeof import('../../store/postgres/copy') => require('../../store/postgres/copy') as typeof import('../../store/postgres/copy');
/* eslint-enable @typescript-eslint/no-require-imports */

const pad = (version: number): string => String(version).padStart(3, '0');

export const registerStoreCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const store = program.command('store').description('the store\'s schema, and the copy of a SQLite install into PostgreSQL (cluster mode, docs/cluster.md)');

  store.command('migrate')
    .description('apply the schema migrations to the configured store (store.url: PostgreSQL, under an advisory lock; else the SQLite file under dataDir); running it again applies nothing')
    .option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const result = await storeMigrate().migrateStore(ctx.config.config, ctx.paths);
      if (opts.json) return ctx.printJson(result);
      for (const m of result.applied) ctx.print(`applied  ${pad(m.version)} ${m.name}`);
      ctx.print(`${result.engine} store ${result.target}: schema at version ${result.version}${result.applied.length === 0 ? ', already up to date' : ''}`);
    });

  store.command('copy')
    .description('copy this install\'s SQLite store (every table) into an empty PostgreSQL database, migrating it first, in one transaction; then compare the row counts. Refused while a server runs on the data directory')
    .option('--to <url>', 'the target: postgres://user:password@host:5432/database (default: store.url or FLUXGATE_STORE_URL, which keep the password off the command line; so does PGPASSWORD)')
    .option('--json', JSON_HELP)
    .action(async (opts: { to?: string; json?: boolean }) => {
      const to = opts.to ?? ctx.config.config.store.url;
      if (to === undefined) throw new FluxgateError('FG_USAGE', 'no target: give --to postgres://user:password@host:5432/database, or set store.url (FLUXGATE_STORE_URL)');
      const problem = storeUrlProblem(to);
      if (problem) throw new FluxgateError('FG_USAGE', `--to: ${problem}`);
      const report = await storeCopy().copySqliteToPostgres(ctx.paths, to);
      if (opts.json) return ctx.printJson(report);
      for (const m of report.migrated) ctx.print(`applied  ${pad(m.version)} ${m.name}`);
      for (const line of table(['TABLE', 'ROWS'], report.tables.map((t) => [t.table, String(t.rows)]))) ctx.print(line);
      ctx.print(`copied ${report.totalRows} rows in ${report.tables.length} tables to ${report.to}; the counts match`);
    });
};
