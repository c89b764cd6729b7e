// First: holds the young generation's growth while the rest loads (see startup-heap.ts).
import { restoreYoungGenerationGrowth } from './startup-heap';
import { Command } from 'commander';
import { CliContext } from './context';
import { commandGroupsFor } from './commands';
import { cliFailure, writeFailure } from './failure';
import { fluxgateVersion } from '../version';

/** Whether `--json` is among the arguments (before a `--`): errors of the parse itself are then JSON too. */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/**
 * The program with its commands. Given the arguments, only the module of the command they name
 * is loaded (every one without them, as for `--help`).
 */
export function buildProgram(options: { json?: boolean; args?: readonly string[] } = {}): { program: Command; ctx: CliContext } {
  const json = options.json ?? false;
  const program = new Command('fluxgate')
    .description('SFTP exchange server for HR data')
    .version(fluxgateVersion(), '-V, --version', 'print the version')
    .option('--data-dir <dir>', 'data directory (env FLUXGATE_DATA_DIR; default ./var)')
    .option('--config <file>', 'configuration file (env FLUXGATE_CONFIG; default ./fluxgate.yaml if present)');
  const ctx = new CliContext(program, json);
  for (const group of commandGroupsFor(options.args)) group.load()(program, ctx);
  // `serve` restores it itself once the server runs: its start-up loads the rest of the engine.
  program.hook('preAction', (_program, command) => { if (command.name() !== 'serve') restoreYoungGenerationGrowth(); });
  (function configure(cmd: Command): void {
    cmd.exitOverride().showHelpAfterError(!json);
    // With --json the parse error is printed by main() as a JSON object, not as text with the usage.
    if (json) cmd.configureOutput({ outputError: () => {} });
    cmd.commands.forEach(configure);
  })(program);
  return { program, ctx };
}

/** Runs the CLI; resolves to the exit code. Long-running commands (serve) resolve when stopped. */
export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv.slice(2));
  const { program, ctx } = buildProgram({ json, args: argv.slice(2) });
  try {
    const args = argv.slice(2);
    if (json && (args[0] === '--version' || args[0] === '-V')) {
      ctx.printJson({ name: 'fluxgate', version: fluxgateVersion() });
      return 0;
    }
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const failure = cliFailure(err);
    if (failure.exitCode !== 0) writeFailure(failure, json);
    return failure.exitCode;
  } finally {
    await ctx.close();
  }
}
