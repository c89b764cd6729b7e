import type { Command } from 'commander';
import { composeFileJobs } from '../../composition/engine';
import { cliLogger } from '../../logging/logger';
import { replayFile } from '../../workflow/replay';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

export const registerReplayCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  program.command('replay')
    .description('process an archived or quarantined file again (the running server picks it up)')
    .argument('<file-id>')
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      // Warnings only: a workflow that does not load is said, the rest is the server's log.
      const logger = cliLogger(ctx.config.config.log, { ...ctx.logOverrides, level: 'warn' });
      const { journal, files } = composeFileJobs({ loaded: ctx.config, store: ctx.store, logger });
      const replayed = await replayFile(id, journal, files);
      if (opts.json) return ctx.printJson(replayed);
      ctx.print(`file ${id} queued for processing again (was ${replayed.from}); follow it with: fluxgate files show ${id}`);
    });
};
