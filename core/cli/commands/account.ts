import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { AccountService } from '../../accounts/account-service';
import { FluxgateError } from '../../errors';
import type { AccountKey, AccountProfile } from '../../store/ports/accounts';
import type { CliContext, RegisterCommands } from '../context';
import { parseOnOff } from '../parse';
import { accountJson, accountRows, importLines, keyRows, removalJson, removalLines } from '../../accounts/cli-format';
import { AccountImportService } from '../../accounts/account-import';
import { exportAccounts } from '../../accounts/account-export';
import { toAccountCsv } from '../../accounts/account-csv';
import { JSON_HELP } from '../json';

export function accountService(ctx: CliContext): AccountService {
  return new AccountService(ctx.accounts, ctx.store.accountData, ctx.paths, ctx.config.config);
}

export function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FluxgateError('FG_KEY_INVALID', `cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Every account's keys, read at once (`account list` would otherwise read them account by account). */
async function keysByAccount(ctx: CliContext): Promise<(id: string) => AccountKey[]> {
  const keysOf = new Map<string, AccountKey[]>();
  for (const key of await ctx.accounts.allKeys()) keysOf.set(key.accountId, [...(keysOf.get(key.accountId) ?? []), key]);
  return (id) => keysOf.get(id) ?? [];
}

async function readSecret(): Promise<string> {
  if (process.env.FLUXGATE_PASSWORD) return process.env.FLUXGATE_PASSWORD;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

export const registerAccount: RegisterCommands = (program, ctx) => {
  const account = program.command('account').description('SFTP accounts: add, import, export, list, show, disable, enable, remove');

  account.command('add <id>')
    .description('create an account, its directory tree and its first key')
    .requiredOption('--key <file>', 'public key file (OpenSSH or RFC 4716)')
    .addOption(new Option('--profile <profile>', 'exchange (in/ out/ dev/) or dropbox (upload-only)').choices(['exchange', 'dropbox']).default('exchange'))
    .option('--partner <id>', 'partner id used in exchange file names (default: the account id)')
    .option('--allow-ip <cidr>', 'allow only this IPv4/IPv6 address or CIDR (repeatable, up to 254)', collect, [])
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { key: string; profile: AccountProfile; partner?: string; allowIp: string[]; json?: boolean }) => {
      const svc = accountService(ctx);
      const { account: created, key } = await svc.create({
        id, profile: opts.profile, partner: opts.partner ?? null, allowIps: opts.allowIp, publicKey: readKeyFile(opts.key),
      });
      if (opts.json) return ctx.printJson({ ...accountJson(created, await svc.keys(created.id)), root: ctx.paths.accountRoot(created.id) });
      ctx.print(`account ${created.id} created (${created.profile}), files in ${ctx.paths.accountRoot(created.id)}`);
      if (key) ctx.print(`key ${key.fingerprint} (${key.type} ${key.bits}) valid until ${new Date(key.expiresAt).toISOString().slice(0, 10)}`);
    });

  account.command('import <file>')
    .description('create the accounts of a CSV file (columns id, profile, partner, keys, allow_ips, enabled; see docs/accounts.md); '
      + 'a bad row is refused with its line and code, an existing account is reported unchanged or as a conflict, never modified')
    .option('--dry-run', 'check every row and report what would happen; write nothing')
    .option('--json', JSON_HELP)
    .action(async (file: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const report = await new AccountImportService(accountService(ctx), ctx.accounts).importFile(file, { dryRun: opts.dryRun });
      // Like `jobs run`: the report is the result (stdout) even when rows were refused; the exit code says so.
      if (report.counts.conflict + report.counts.refused > 0) process.exitCode = 1;
      if (opts.json) return ctx.printJson(report);
      for (const line of importLines(report)) ctx.print(line);
    });

  account.command('export')
    .description('print every account and its keys in the format account import reads (CSV by default)')
    .option('--csv', 'CSV, as account import reads it (the default)')
    .option('--json', JSON_HELP)
    .action(async (opts: { csv?: boolean; json?: boolean }) => {
      if (opts.csv && opts.json) throw new FluxgateError('FG_USAGE', '--csv and --json cannot be combined: choose one format');
      const exported = await exportAccounts(ctx.accounts);
      if (opts.json) return ctx.printJson(exported);
      ctx.out.write(toAccountCsv(exported.accounts));
      if (exported.purged.length > 0) {
        process.stderr.write(`fluxgate: ${exported.purged.length} purged account(s) not exported (no keys nor files left): ${exported.purged.join(', ')}\n`);
      }
    });

  account.command('list')
    .description('list accounts')
    .option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const accounts = await ctx.accounts.list();
      const keysOf = await keysByAccount(ctx);
      if (opts.json) return ctx.printJson(accounts.map((a) => accountJson(a, keysOf(a.id))));
      if (accounts.length === 0) return ctx.print('no accounts (add one with: fluxgate account add <id> --key FILE)');
      for (const line of accountRows(accounts, (id) => keysOf(id).length)) ctx.print(line);
    });

  account.command('show <id>')
    .description('show one account and its keys')
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      const svc = accountService(ctx);
      const a = await svc.get(id);
      const keys = await svc.keys(id);
      if (opts.json) return ctx.printJson(accountJson(a, keys));
      const json = accountJson(a);
      ctx.print(`account      ${a.id}`);
      ctx.print(`profile      ${a.profile}`);
      ctx.print(`partner      ${a.partner ?? `(account id) ${a.id}`}`);
      ctx.print(`status       ${a.enabled ? 'enabled' : `disabled${a.disabledReason ? `: ${a.disabledReason}` : ''}`}`);
      ctx.print(`allow-ip     ${a.allowIps.length ? a.allowIps.join(', ') : 'any address'}`);
      ctx.print(`password     ${a.passwordHash ? 'set (deprecated fallback)' : 'off'}`);
      ctx.print(`encryption   ${a.options.requireEncryption ? 'required' : 'optional'}`);
      if (a.profile === 'dropbox') ctx.print(`full sync    ${a.options.deactivateMissing ? 'on (employees missing from an upload are deactivated)' : 'off'}`);
      ctx.print(`created      ${String(json.createdAt)}`);
      ctx.print(`last login   ${a.lastLoginAt ? String(json.lastLoginAt) : 'never'}`);
      ctx.print(`root         ${ctx.paths.accountRoot(a.id)}`);
      ctx.print('');
      if (keys.length === 0) ctx.print('no keys');
      else for (const line of keyRows(keys)) ctx.print(line);
    });

  account.command('update <id>')
    .description('change the partner id, replace the IP allowlist (takes effect at the next login), or set account options')
    .option('--partner <id>', 'new partner id')
    .option('--allow-ip <cidr>', 'the new allowlist, one entry per option (replaces the old list)', collect, [])
    .option('--any-ip', 'remove the allowlist: any address may connect')
    .option('--deactivate-missing <on|off>', 'drop-box: an upload is a full sync, employees missing from it are deactivated', parseOnOff)
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { partner?: string; allowIp: string[]; anyIp?: boolean; deactivateMissing?: boolean; json?: boolean }) => {
      if (opts.anyIp && opts.allowIp.length > 0) throw new FluxgateError('FG_USAGE', '--any-ip and --allow-ip cannot be combined');
      const allowIps = opts.anyIp ? [] : opts.allowIp.length > 0 ? opts.allowIp : undefined;
      const options = opts.deactivateMissing === undefined ? undefined : { deactivateMissing: opts.deactivateMissing };
      if (opts.partner === undefined && allowIps === undefined && options === undefined) {
        throw new FluxgateError('FG_USAGE', 'nothing to change: give --partner, --allow-ip, --any-ip or --deactivate-missing');
      }
      const svc = accountService(ctx);
      const a = await svc.update(id, { partner: opts.partner, allowIps, options });
      if (opts.json) return ctx.printJson(accountJson(a, await svc.keys(id)));
      ctx.print(`account ${id} updated: partner ${a.partner ?? '(account id)'}, allow-ip ${a.allowIps.length ? a.allowIps.join(', ') : 'any address'}, deactivate-missing ${a.options.deactivateMissing ? 'on' : 'off'}`);
    });

  account.command('disable <id>').description('refuse logins (takes effect at the next login)').option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      const svc = accountService(ctx);
      const a = await svc.disable(id);
      if (opts.json) return ctx.printJson(accountJson(a, await svc.keys(id)));
      ctx.print(`account ${id} disabled`);
    });

  account.command('enable <id>').description('allow logins again').option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      const svc = accountService(ctx);
      const a = await svc.enable(id);
      if (opts.json) return ctx.printJson(accountJson(a, await svc.keys(id)));
      ctx.print(`account ${id} enabled`);
    });

  account.command('remove <id>')
    .description('disable the account, move its files and an export of its data to <data>/removed/, delete its rows; run again to finish an interrupted removal')
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      const removal = await accountService(ctx).remove(id);
      if (opts.json) return ctx.printJson(removalJson(removal));
      for (const line of removalLines(removal)) ctx.print(line);
    });

  account.command('password <id>')
    .description('DEPRECATED fallback: set the account password from $FLUXGATE_PASSWORD or stdin (scrypt hash), or --clear it')
    .option('--clear', 'turn password authentication off for this account')
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { clear?: boolean; json?: boolean }) => {
      const svc = accountService(ctx);
      await svc.get(id);
      await svc.setPassword(id, opts.clear ? null : await readSecret());
      if (opts.json) return ctx.printJson(accountJson(await svc.get(id)));
      ctx.print(opts.clear ? `password authentication off for ${id}` : `password set for ${id} (deprecated: prefer keys)`);
    });
};
