import { InvalidArgumentError, Option } from 'commander';
import { OperatorService, operatorView, tokenView } from '../../operators/operator-service';
import { OPERATOR_ROLES } from '../../store/ports/operators';
import { auditCli } from '../audit';
import { JSON_HELP } from '../json';
import type { RegisterCommands } from '../context';
import { askPassword, readStdinLine } from '../secret';
import { printable, table } from '../../text-table';

const roleOption = (): Option => new Option('--role <role>', 'admin (may change things) or viewer (reads only)').choices(OPERATOR_ROLES).makeOptionMandatory();

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('must be a whole number, 1 or more');
  return n;
}

async function password(opts: { passwordStdin?: boolean }, what: string): Promise<string> {
  return opts.passwordStdin ? readStdinLine() : askPassword(what);
}

export const registerOperatorCommands: RegisterCommands = (program, ctx) => {
  const service = (): OperatorService => new OperatorService(ctx.store.operators);

  const admin = program.command('admin').description('operators of the HTTP API and console: add, list, remove, password');
  admin.command('add <name>')
    .description('add an operator (asks for the password, or reads it from standard input with --password-stdin)')
    .addOption(roleOption())
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--json', JSON_HELP)
    .action(async (name: string, opts: { role: string; passwordStdin?: boolean; json?: boolean }) => {
      const created = await service().add(name, opts.role, await password(opts, `password for ${name}`));
      await auditCli(ctx, 'admin add', name, { role: created.role });
      if (opts.json) return ctx.printJson(operatorView(created));
      ctx.print(`operator ${created.name} added (${created.role})`);
    });

  admin.command('list').description('operators and their roles').option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const list = await service().list();
      if (opts.json) return ctx.printJson(list.map(operatorView));
      if (list.length === 0) return ctx.print('no operators (add one with: fluxgate admin add <name> --role admin)');
      for (const line of table(['NAME', 'ROLE', 'CREATED'], list.map((o) => [o.name, o.role, new Date(o.createdAt).toISOString()]))) ctx.print(line);
    });

  admin.command('remove <name>').description('remove an operator; its login sessions end at once').option('--json', JSON_HELP)
    .action(async (name: string, opts: { json?: boolean }) => {
      const removed = await service().remove(name);
      await auditCli(ctx, 'admin remove', name);
      if (opts.json) return ctx.printJson({ removed: operatorView(removed) });
      ctx.print(`operator ${name} removed`);
    });

  admin.command('password <name>').description("change an operator's password")
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--json', JSON_HELP)
    .action(async (name: string, opts: { passwordStdin?: boolean; json?: boolean }) => {
      const svc = service();
      await svc.get(name);
      const changed = await svc.setPassword(name, await password(opts, `new password for ${name}`));
      await auditCli(ctx, 'admin password', name);
      if (opts.json) return ctx.printJson(operatorView(changed));
      ctx.print(`password of ${name} changed`);
    });

  const token = program.command('token').description('API tokens for automation: create, list, revoke');
  token.command('create')
    .description('create a token and print it once (only its hash is kept)')
    .requiredOption('--name <name>', 'a name to recognise and revoke it by')
    .addOption(roleOption())
    .option('--expires-days <days>', 'valid for this many days (default: until revoked)', positiveInt)
    .option('--json', `${JSON_HELP}: {"id","name","role","token"}`)
    .action(async (opts: { name: string; role: string; expiresDays?: number; json?: boolean }) => {
      const { token: text, record } = await service().createToken(opts.name, opts.role, opts.expiresDays);
      await auditCli(ctx, 'token create', record.name, { id: record.id, role: record.role, expiresAt: record.expiresAt && new Date(record.expiresAt).toISOString() });
      if (opts.json) return ctx.printJson({ id: record.id, name: record.name, role: record.role, token: text, expiresAt: record.expiresAt && new Date(record.expiresAt).toISOString() });
      ctx.print(text);
      process.stderr.write(`token ${record.id} (${record.name}, ${record.role}${record.expiresAt ? `, expires ${new Date(record.expiresAt).toISOString()}` : ''}): `
        + 'copy it now, it is not shown again. Use it as: Authorization: Bearer <token>\n');
    });

  token.command('list').description('tokens: id, name, role, status, expiry, last use (never the token itself)').option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const list = (await service().tokens()).map((t) => tokenView(t));
      if (opts.json) return ctx.printJson(list);
      if (list.length === 0) return ctx.print('no tokens (create one with: fluxgate token create --name N --role viewer)');
      for (const line of table(['ID', 'NAME', 'ROLE', 'STATUS', 'EXPIRES', 'LAST USED'], list.map((t) => [
        String(t.id), String(t.name), String(t.role), String(t.status), printable(t.expiresAt ?? 'never'), printable(t.lastUsedAt ?? 'never')]))) ctx.print(line);
    });

  token.command('revoke <id-or-name>').description('revoke a token at once').option('--json', JSON_HELP)
    .action(async (idOrName: string, opts: { json?: boolean }) => {
      const revoked = await service().revokeToken(idOrName);
      await auditCli(ctx, 'token revoke', revoked.name, { id: revoked.id });
      if (opts.json) return ctx.printJson(tokenView(revoked));
      ctx.print(`token ${revoked.id} (${revoked.name}) revoked`);
    });

  program.command('audit')
    .description('changes made through the API and by operator commands, newest first')
    .option('--limit <n>', 'at most this many entries (default 100)', positiveInt)
    .option('--actor <actor>', 'only this actor (token:<name>, operator:<name>, cli:<user>)')
    .option('--json', JSON_HELP)
    .action(async (opts: { limit?: number; actor?: string; json?: boolean }) => {
      const entries = await ctx.store.audit.list({ limit: opts.limit ?? 100, actor: opts.actor });
      if (opts.json) return ctx.printJson(entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })));
      if (entries.length === 0) return ctx.print('no audited changes');
      for (const line of table(['AT', 'ACTOR', 'ROLE', 'ACTION', 'TARGET', 'ADDRESS', 'RESULT'], entries.map((e) => [
        new Date(e.at).toISOString(), e.actor, e.role, e.action, e.target ?? '', e.address ?? '',
        e.code ? `${e.status ?? ''} ${e.code}`.trim() : String(e.status ?? 'ok')]))) ctx.print(line);
    });
};
