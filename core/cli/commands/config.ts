import type { Command } from 'commander';
import { readConfig } from '../../config/load';
import { configJsonSchema } from '../../config/json-schema';
import { formatProblem } from '../../config/yaml-problems';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

export const registerConfigCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const config = program.command('config').description('the configuration file (fluxgate.yaml) and its FLUXGATE_* environment overrides');

  config.command('check')
    .description('validate a config file and the FLUXGATE_* overrides in the environment, without starting anything (default: the file --config, FLUXGATE_CONFIG or ./fluxgate.yaml names)')
    .argument('[file]')
    .option('--json', JSON_HELP)
    .action((file: string | undefined, opts: { json?: boolean }) => {
      const sources = ctx.sources;
      const check = readConfig({ ...sources, configFile: file ?? sources.configFile });
      const where = check.file ?? 'embedded defaults (no config file)';
      const valid = check.problems.length === 0;
      if (opts.json) {
        ctx.printJson({
          file: check.file ?? null, valid, problems: check.problems,
          environment: check.overrides.map((o) => ({ variable: o.variable, key: o.path.join('.') })),
        });
      } else {
        for (const o of check.overrides) ctx.print(`env    ${o.variable} sets ${o.path.join('.')}`);
        for (const p of check.problems) ctx.print(`error  ${formatProblem(p)}`);
        ctx.print(valid ? `ok     ${where}` : `${check.problems.length} problem(s) in ${where}`);
      }
      if (!valid) process.exitCode = 1;
    });

  config.command('schema')
    .description('print the JSON Schema of the config file (generated from the zod schema the server validates with)')
    .option('--json', `${JSON_HELP}; the schema itself is JSON either way`)
    .action(() => ctx.printJson(configJsonSchema()));
};
