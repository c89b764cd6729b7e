import type { Command } from 'commander';
import { replayFile } from '../../intake/replay';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

export const registerReplayCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  program.command('replay')
    .description('process an archived or quarantined file again (the running server picks it up)')
    .argument('<file-id>')
    .option('--json', JSON_HELP)
    .action((id: string, opts: { json?: boolean }) => {
      const replayed = replayFile(ctx.db, id, ctx.config.config.engine.retry.attempts);
      if (opts.json) return ctx.printJson(replayed);
      ctx.print(`file ${id} queued for processing again (was ${replayed.from}); follow it with: fluxgate files show ${id}`);
    });
};
