import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { pluginContainer } from '../../composition/plugins';
import { FluxgateError, toFluxgateError } from '../../errors';
import { silentLogger } from '../../logging/logger';
import { FileRejection, type FluxOutcome } from '../../plugin-api/outcome';
import { createTestContext, type DirectoryRows } from '../../plugin-testing';
import { scaffoldPlugin } from '../../plugin-testing/scaffold';
import { sandboxLoader } from '../../sandbox/sandbox-loader';
import { SandboxedHandler } from '../../sandbox/sandboxed-handler';
import { runInSandbox } from '../../sandbox/try-run';
import { HandlerRegistry } from '../../workflow/handler-registry';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

/** Every file under dir, account-relative (`out/abc/x.csv`, `vault/abc/…`). */
function written(root: string, account: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, as: string) => {
    let names: string[];
    try { names = readdirSync(dir); } catch { return; }
    for (const name of names.sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p, `${as}${name}/`);
      else out.push(`${as}${name}`);
    }
  };
  walk(join(root, 'sftp', account), '');
  walk(join(root, 'vault', account), 'vault/');
  return out;
}

export const registerPluginCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const plugin = program.command('plugin').description('flux plugins: try one on a file, start a new one');

  plugin.command('test')
    .description('run a plugin\'s handler on a file and print its report; changes nothing (directory in memory, files in a temporary folder); '
      + 'a module listed under plugins: runs in its sandbox, as the server runs it')
    .argument('<module>', 'the plugin module (a path, as under plugins:)')
    .argument('<file>', 'the file to process')
    .option('--account <id>', 'run as for this account: its profile, partner and directory (read from the store, never written)')
    .option('--flux <flux>', 'the handler to run when the module has several (by flux)')
    .option('--json', JSON_HELP)
    .action(async (module: string, file: string, opts: { account?: string; flux?: string; json?: boolean }) => {
      const registry = new HandlerRegistry(pluginContainer({ config: ctx.config.config, logger: silentLogger() }));
      // Listed under plugins: (made absolute when the config loads): loaded and run as the server would, in a sandbox.
      const sandboxed = ctx.config.config.plugins.includes(resolve(module));
      const manifests = sandboxed ? sandboxLoader(undefined, ctx.config, { directory: ctx.directoryTarget })(registry, resolve(module)) : registry.registerModule(resolve(module));
      const manifest = opts.flux ? manifests.find((m) => m.flux === opts.flux) : manifests[0];
      if (!manifest) throw new FluxgateError('FG_PLUGIN_NOT_FOUND', `${module} has no handler for flux "${opts.flux}": it has ${manifests.map((m) => m.flux).join(', ')}`);
      let directory: Partial<DirectoryRows> = {};
      let account: { profile?: 'exchange' | 'dropbox'; partner?: string; options?: Record<string, unknown> } = {};
      if (opts.account) {
        const found = await ctx.accounts.get(opts.account);
        if (!found) throw new FluxgateError('FG_ACCOUNT_NOT_FOUND', `no account "${opts.account}" in ${ctx.storeName}: give one that exists, or no --account`);
        account = { profile: found.profile, partner: found.partner ?? undefined, options: { ...found.options } };
        const repo = ctx.directory();
        directory = { organizations: await repo.listOrganizations(opts.account), employees: await repo.listEmployees(opts.account),
          users: await repo.listUsers(opts.account), documents: await repo.listDocuments(opts.account) };
      }
      const accountId = opts.account ?? 'acme';
      const t = createTestContext({
        input: file, manifest, accountId, profile: account.profile, partner: account.partner, accountOptions: account.options,
        directory, environment: ctx.config.config.environment,
      });
      const { handler } = registry.get(manifest.flux);
      let outcome: FluxOutcome | undefined;
      let error: FluxgateError | undefined;
      let after: DirectoryRows | undefined;
      try {
        if (handler instanceof SandboxedHandler) {
          const ran = await runInSandbox(handler, t, directory, ctx.config.config);
          after = ran.after;
          if (ran.error !== undefined) error = toFluxgateError(ran.error, 'FG_HANDLER_FAILED');
          outcome = ran.outcome;
        } else {
          outcome = await handler.handle(t.file, t.ctx);
        }
        if (outcome?.result === 'rejected') error = new FileRejection(outcome.code ?? 'FG_HANDLER_FAILED', outcome.summary ?? 'the handler rejected the file');
      } catch (err) {
        error = toFluxgateError(err, 'FG_HANDLER_FAILED');
      }
      const files = written(t.root, accountId);
      rmSync(t.root, { recursive: true, force: true });
      const result = error ? (error instanceof FileRejection ? 'rejected' : 'failed') : 'processed';
      const counts = { ...t.report.counts, ...outcome?.counts };
      after ??= t.directory.rows();
      const changes = Object.fromEntries((Object.keys(after) as Array<keyof DirectoryRows>)
        .map((k) => [k, { before: directory[k]?.length ?? 0, after: after[k].length }]));
      if (opts.json) {
        ctx.printJson({
          module: resolve(module), flux: manifest.flux, file: resolve(file), account: accountId, result,
          code: error?.code ?? null, summary: error?.message ?? outcome?.summary ?? null, counts,
          messages: t.report.messages, directory: changes, files, applied: false, sandboxed,
        });
      } else {
        ctx.print(`${manifest.flux} on ${t.file.name} (account ${accountId}${sandboxed ? ', in its sandbox' : ''}): ${result}${error ? ` ${error.code}: ${error.message}` : outcome?.summary ? `: ${outcome.summary}` : ''}`);
        ctx.print(`counts: created ${counts.created ?? 0}, updated ${counts.updated ?? 0}, unchanged ${counts.unchanged ?? 0}, rejected ${counts.rejected ?? 0}`);
        for (const m of t.report.messages) {
          ctx.print(`  ${m.line !== undefined ? `line ${m.line}` : '-'}  ${m.severity}${m.code ? ` ${m.code}` : ''}${m.entityId ? ` ${m.entityId}` : ''}: ${m.message}`);
        }
        for (const [k, c] of Object.entries(changes)) if (c.before !== c.after) ctx.print(`directory ${k}: ${c.before} → ${c.after} (not applied)`);
        for (const f of files) ctx.print(`would write ${f} (not written)`);
        ctx.print('nothing was changed: the directory ran in memory, files in a temporary folder');
      }
      if (result !== 'processed') process.exitCode = 1;
    });

  plugin.command('init')
    .description('write a new flux plugin: a handler, its workflow, a sample file and a test that passes (npm test in the folder)')
    .argument('<flux>', 'the flux code (in/<flux>, out/<flux>): lower-case letters, digits, "_" and "-"')
    .option('--dir <dir>', 'where to write it (default ./<flux>)')
    .option('--json', JSON_HELP)
    .action((flux: string, opts: { dir?: string; json?: boolean }) => {
      const dir = resolve(opts.dir ?? flux);
      const files = scaffoldPlugin(flux, dir);
      if (opts.json) {
        ctx.printJson({ flux, dir, files: files.map((f) => relative(dir, f)) });
        return;
      }
      for (const f of files) ctx.print(`wrote ${relative(process.cwd(), f) || f}`);
      ctx.print(`next: cd ${relative(process.cwd(), dir) || '.'} && npm install && npm test; then list ${join(dir, 'index.ts')} under plugins: and copy ${flux}.yaml into the workflows directory (docs/plugin-api.md)`);
    });
};
