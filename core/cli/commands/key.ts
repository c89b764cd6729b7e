import type { RegisterCommands } from '../context';
import { accountService, readKeyFile } from './account';
import { keyJson, keyRows } from '../../accounts/cli-format';
import { JSON_HELP } from '../json';

export const registerKey: RegisterCommands = (program, ctx) => {
  const key = program.command('key').description('public keys of an account: add, list, remove');

  key.command('add <id> <file>')
    .description('add a public key (OpenSSH or RFC 4716 file) to an account')
    .option('--json', JSON_HELP)
    .action(async (id: string, file: string, opts: { json?: boolean }) => {
      const k = await accountService(ctx).addKey(id, readKeyFile(file));
      if (opts.json) return ctx.printJson({ account: id, ...keyJson(k) });
      ctx.print(`key ${k.fingerprint} (${k.type} ${k.bits}) added to ${id}, valid until ${new Date(k.expiresAt).toISOString().slice(0, 10)}`);
    });

  key.command('list <id>')
    .description('type, bits, fingerprint, added and expiry dates, and comment of each key')
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      const keys = await accountService(ctx).keys(id);
      if (opts.json) return ctx.printJson(keys.map((k) => keyJson(k)));
      if (keys.length === 0) return ctx.print(`account ${id} has no keys`);
      for (const line of keyRows(keys)) ctx.print(line);
    });

  key.command('remove <id> <fingerprint>')
    .description('remove a key by its SHA256:… fingerprint (see key list)')
    .option('--json', JSON_HELP)
    .action(async (id: string, fingerprint: string, opts: { json?: boolean }) => {
      const svc = accountService(ctx);
      await svc.removeKey(id, fingerprint);
      if (opts.json) return ctx.printJson({ account: id, removed: fingerprint, keys: (await svc.keys(id)).map((k) => keyJson(k)) });
      ctx.print(`key ${fingerprint} removed from ${id}`);
    });
};
