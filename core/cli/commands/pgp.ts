import { lstatSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FluxgateError } from '../../errors';
import { cliLogger } from '../../logging/logger';
import { decryptFile } from '../../pgp/decrypt';
import { PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME } from '../../pgp/names';
import { publishToAccounts } from '../../pgp/publish';
import { ServerKeyStore } from '../../pgp/server-key';
import { parseOnOff } from '../parse';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

function keyStore(ctx: CliContext): ServerKeyStore {
  return new ServerKeyStore(ctx.paths, ctx.config, cliLogger(ctx.config.config.log, { ...ctx.logOverrides, level: 'warn' }));
}

/**
 * An output the command would replace: refused input (exit 1), not a usage error. `-o` names a
 * file the command creates; replacing one by mistake could destroy anything (a config, HR data).
 */
/** Whether a name is taken, by anything: a dangling link too (existsSync follows links). */
function pathTaken(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

function outputExists(output: string): FluxgateError {
  return new FluxgateError('FG_FILE_EXISTS', `${output} already exists: give the name of a new file, or remove that one first`, { file: output });
}

/** A file-system error (no such directory, permission denied…) as a coded CLI error; FluxgateErrors pass as they are. */
function systemError(err: unknown, what: string): unknown {
  if (err instanceof FluxgateError || typeof (err as NodeJS.ErrnoException | undefined)?.code !== 'string') return err;
  return new FluxgateError('FG_PGP', `${what}: ${(err as Error).message}`, { errno: (err as NodeJS.ErrnoException).code }, { cause: err });
}

export const registerPgpCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const pgp = program.command('pgp').description('the server PGP key: encrypted uploads and signed reports');

  pgp.command('export-public')
    .description('print the armored public key clients encrypt uploads with and verify report signatures with (generates the key pair on first use)')
    .option('-o, --output <file>', 'write it to this file instead of standard output (must not exist)')
    .option('--json', JSON_HELP)
    .action(async (opts: { output?: string; json?: boolean }) => {
      const output = opts.output === undefined ? undefined : resolve(opts.output);
      // Checked before the key is loaded (or generated, on first use), and again by the exclusive write.
      if (output && pathTaken(output)) throw outputExists(output);
      const key = await keyStore(ctx).load();
      if (!output) {
        if (opts.json) return ctx.printJson({ fingerprint: key.fingerprint, armoredPublicKey: key.armoredPublicKey });
        return void ctx.out.write(key.armoredPublicKey);
      }
      try {
        writeFileSync(output, key.armoredPublicKey, { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw outputExists(output);
        throw systemError(err, `cannot write ${output}`);
      }
      if (opts.json) ctx.printJson({ fingerprint: key.fingerprint, file: output });
    });

  pgp.command('info')
    .description('fingerprint, algorithm, user id and files of the server key')
    .option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const store = keyStore(ctx);
      const key = await store.load();
      const info = {
        fingerprint: key.fingerprint, algorithm: key.algorithm, userIds: key.userIds,
        createdAt: key.createdAt.toISOString(), source: key.source,
        privateKeyFile: key.privateKeyFile, publicKeyFile: store.publicKeyFile,
        publishedAs: `${PUBLIC_KEY_DIR}/${PUBLIC_KEY_FILE_NAME}`,
        signReports: ctx.config.config.pgp.signReports,
      };
      if (opts.json) return ctx.printJson(info);
      for (const [k, v] of Object.entries(info)) ctx.print(`${k.padEnd(15)} ${Array.isArray(v) ? v.join(', ') : String(v)}`);
    });

  pgp.command('publish')
    .description(`write the public key to ${PUBLIC_KEY_DIR}/${PUBLIC_KEY_FILE_NAME} of every exchange account (the server also does it at start)`)
    .option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const key = await keyStore(ctx).load();
      const counts = publishToAccounts(ctx.paths, await ctx.accounts.list(), key.armoredPublicKey, ctx.config.config.sftp.fileMode);
      if (opts.json) return ctx.printJson({ fingerprint: key.fingerprint, ...counts });
      ctx.print(`written=${counts.written} unchanged=${counts.unchanged} skipped=${counts.skipped}`);
    });

  pgp.command('require-encryption')
    .description('accept only PGP-encrypted uploads (.pgp/.gpg) from this account, or stop requiring them')
    .argument('<account>', 'account id')
    .argument('<on|off>', 'on or off', parseOnOff)
    .option('--json', JSON_HELP)
    .action(async (accountId: string, required: boolean, opts: { json?: boolean }) => {
      const account = await ctx.accounts.get(accountId);
      if (!account) throw new FluxgateError('FG_ACCOUNT_NOT_FOUND', `no account "${accountId}" (see: fluxgate account list)`, { accountId });
      await ctx.accounts.update(accountId, { options: { ...account.options, requireEncryption: required } });
      if (opts.json) return ctx.printJson({ account: accountId, requireEncryption: required });
      ctx.print(`${accountId}: encrypted uploads ${required ? 'required (plain uploads are rejected with FG_ENCRYPTION_REQUIRED)' : 'optional'}`);
    });

  pgp.command('decrypt')
    .description('decrypt a file with the server key, e.g. to inspect a quarantined upload (the plaintext is HR data: mind where it goes)')
    .argument('<file>', 'PGP message, binary or armored')
    .requiredOption('-o, --output <file>', 'where to write the plaintext (must not exist)')
    .option('--json', JSON_HELP)
    .action(async (file: string, opts: { output: string; json?: boolean }) => {
      const input = resolve(file);
      const output = resolve(opts.output);
      // Checked before the key is loaded (or generated, on first use).
      const stat = statSync(input, { throwIfNoEntry: false });
      if (!stat) throw new FluxgateError('FG_NO_SUCH_FILE', `${input} does not exist: give the path of a PGP message (e.g. a quarantined upload)`, { file: input });
      if (!stat.isFile()) throw new FluxgateError('FG_NO_SUCH_FILE', `${input} is not a file: give the path of a PGP message`, { file: input });
      if (pathTaken(output)) throw outputExists(output);
      const key = await keyStore(ctx).load();
      let result;
      try {
        result = await decryptFile(key.privateKey, input, output, { maxPlaintextBytes: ctx.config.config.pgp.maxPlaintextBytes, exclusive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw outputExists(output);
        throw systemError(err, `cannot decrypt ${input} into ${output}`);
      }
      if (opts.json) return ctx.printJson({ input, output, bytes: result.bytes, armored: result.armored, innerFileName: result.innerFileName });
      ctx.print(`${output}: ${result.bytes} bytes (${result.armored ? 'armored' : 'binary'} message, inner name "${result.innerFileName}")`);
    });
};
