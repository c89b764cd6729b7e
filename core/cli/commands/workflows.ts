import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BUILTIN_HANDLERS } from '../../../plugins';
import { pluginContainer } from '../../composition/plugins';
import { FluxgateError } from '../../errors';
import { silentLogger } from '../../logging/logger';
import { HandlerRegistry } from '../../workflow/handler-registry';
import { sandboxLoader } from '../../sandbox/sandbox-loader';
import { formatProblem, loadWorkflowDir } from '../../workflow/loader';
import { workflowJsonSchema, writeWorkflowJsonSchema } from '../../workflow/json-schema';
import { BUILTIN_STEPS } from '../../workflow/steps';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

export const registerWorkflowCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const workflows = program.command('workflows').description('workflow definitions (workflows/*.yaml)');

  workflows.command('status')
    .description('what the server runs for each workflow file: its own definition, its last good one (the file is invalid), or nothing; as the server last recorded it in the store')
    .option('--json', JSON_HELP)
    .action(async (opts: { json?: boolean }) => {
      const rows = await ctx.store.workflowVersions.statuses();
      if (opts.json) {
        ctx.printJson(rows.map((r) => ({ ...r, goodSavedAt: r.goodSavedAt === null ? null : new Date(r.goodSavedAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() })));
      } else if (rows.length === 0) {
        ctx.print('no workflow recorded: the server has not started on this data directory since workflows are recorded');
      } else {
        for (const r of rows) {
          const what = r.state === 'file' ? 'ok       ' : r.state === 'last-good' ? 'LAST GOOD' : 'NOT RUN  ';
          ctx.print(`${what}  ${(r.flux ?? '-').padEnd(10)} ${r.source}`);
          if (r.state === 'last-good') ctx.print(`           runs the definition saved ${new Date(r.goodSavedAt ?? r.updatedAt).toISOString()}; the file: ${r.problem ?? ''}`);
          if (r.state === 'not-loaded') ctx.print(`           nothing runs for it: ${r.problem ?? ''}`);
        }
      }
      // Something to fix: a script or a monitor sees it in the exit code.
      if (rows.some((r) => r.state !== 'file')) process.exitCode = 1;
    });

  workflows.command('check')
    .description('validate workflow files without starting anything (default: the configured workflows directory)')
    .argument('[dir]')
    .option('--json', JSON_HELP)
    .action((dir: string | undefined, opts: { json?: boolean }) => {
      const target = dir ? resolve(dir) : ctx.config.workflowsDir;
      // Against the handlers the server would load: the built-in ones and the config's plugins.
      // A plugin refused at load (FG_PLUGIN_INVALID: its manifest, its module) is a problem of the check.
      const refused: Array<{ module: string; error: FluxgateError }> = [];
      const handlers = HandlerRegistry.withPlugins(pluginContainer({ config: ctx.config.config, logger: silentLogger() }), BUILTIN_HANDLERS, ctx.config.config.plugins, refused, sandboxLoader(undefined, ctx.config, { directory: ctx.directoryTarget }));
      let load;
      try {
        load = loadWorkflowDir(target, BUILTIN_STEPS, handlers);
      } catch (err) {
        throw new FluxgateError('FG_WORKFLOW_INVALID', `cannot read ${target}: ${(err as Error).message}`);
      }
      load.problems.unshift(...refused.map(({ module, error }) => ({ file: module, key: 'plugins', message: `${error.code}: ${error.message}` })));
      if (opts.json) {
        ctx.printJson({ dir: target, valid: load.problems.length === 0, workflows: load.workflows.map((w) => ({ flux: w.flux, profile: w.match.profile, directory: w.match.directory || '/', file: w.source })), problems: load.problems, warnings: load.warnings });
      } else {
        for (const w of load.workflows) ctx.print(`ok     ${w.flux.padEnd(10)} ${w.match.profile.padEnd(8)} /${w.match.directory}  ${w.steps.map((s) => s.name).join(' → ')}`);
        for (const p of load.warnings) ctx.print(`warn   ${formatProblem(p)}`);
        for (const p of load.problems) ctx.print(`error  ${formatProblem(p)}`);
        const warned = load.warnings.length > 0 ? `, ${load.warnings.length} warning(s)` : '';
        ctx.print(`${load.workflows.length} valid, ${load.problems.length} problem(s)${warned} in ${load.files.length} file(s) under ${target}`);
      }
      if (load.problems.length > 0) process.exitCode = 1;
    });

  workflows.command('schema')
    .description('print the JSON Schema of workflow files (generated from the zod source)')
    .option('--write [dir]', 'write workflow.schema.json into dir (default: the configured workflows directory)')
    .option('--json', `${JSON_HELP}; the schema itself is JSON either way`)
    .action((opts: { write?: string | boolean; json?: boolean }) => {
      if (opts.write === undefined) return ctx.printJson(workflowJsonSchema(BUILTIN_STEPS));
      const dir = typeof opts.write === 'string' ? resolve(opts.write) : ctx.config.workflowsDir;
      const written = writeWorkflowJsonSchema(dir, BUILTIN_STEPS);
      if (opts.json) return ctx.printJson({ written });
      ctx.print(`wrote ${written}`);
    });
};
