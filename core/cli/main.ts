// First: holds the young generation's growth while the rest loads (see startup-heap.ts).
import { restoreYoungGenerationGrowth } from './startup-heap';
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { FluxgateError } from '../errors';
import { CliContext } from './context';
import { COMMANDS } from './commands';

export function buildProgram(): { program: Command; ctx: CliContext } {
  const program = new Command('fluxgate')
    .description('SFTP exchange server for HR data')
    .option('--data-dir <dir>', 'data directory (env FLUXGATE_DATA_DIR; default ./var)')
    .option('--config <file>', 'configuration file (env FLUXGATE_CONFIG; default ./fluxgate.yaml if present)')
    .showHelpAfterError()
    .exitOverride();
  const ctx = new CliContext(program);
  for (const register of COMMANDS) register(program, ctx);
  // `serve` restores it itself once the server runs: its start-up loads the rest of the engine.
  program.hook('preAction', (_program, command) => { if (command.name() !== 'serve') restoreYoungGenerationGrowth(); });
  program.commands.forEach(function configure(cmd: Command): void {
    cmd.showHelpAfterError().exitOverride();
    cmd.commands.forEach(configure);
  });
  return { program, ctx };
}

/** Runs the CLI; resolves to the exit code. Long-running commands (serve) resolve when stopped. */
export async function main(argv: string[]): Promise<number> {
  const { program, ctx } = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version requests exit 0; usage errors were already printed with the usage.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof FluxgateError) {
      process.stderr.write(`fluxgate: ${err.message} [${err.code}]\n`);
      return err.code === 'FG_USAGE' ? 2 : 1;
    }
    throw err;
  } finally {
    ctx.close();
  }
}
