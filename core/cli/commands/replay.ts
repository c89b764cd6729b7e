import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { FluxgateError } from '../../errors';
import { PROCESS_TOPIC } from '../../intake/intake';
import { JournalRepository } from '../../store/journal-repository';
import { QueueRepository } from '../../store/queue-repository';
import { JSON_HELP } from '../json';
import type { CliContext, RegisterCommands } from '../context';

const REPLAYABLE = ['processed', 'rejected', 'dead'];

export const registerReplayCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  program.command('replay')
    .description('process an archived or quarantined file again (the running server picks it up)')
    .argument('<file-id>')
    .option('--json', JSON_HELP)
    .action((id: string, opts: { json?: boolean }) => {
      const journal = new JournalRepository(ctx.db);
      const file = journal.get(id);
      if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal (see fluxgate files)`);
      if (!REPLAYABLE.includes(file.state)) {
        throw new FluxgateError('FG_REPLAY', `file ${id} is ${file.state}: only processed, rejected or dead files can be replayed`);
      }
      if (!existsSync(file.location)) {
        throw new FluxgateError('FG_REPLAY', `file ${id} is no longer at ${file.location} (removed by retention?): nothing to replay`);
      }
      const queue = new QueueRepository(ctx.db);
      journal.transaction(() => {
        // The proof of receipt was made once and stays; a new report replaces the old one.
        journal.replay(id, file.state, file.location);
        queue.insert({ topic: PROCESS_TOPIC, payload: { fileId: id }, dedupKey: id, accountId: file.accountId, maxAttempts: ctx.config.config.engine.retry.attempts });
      });
      if (opts.json) return ctx.printJson({ id, from: file.state, state: 'received', queued: true, location: file.location });
      ctx.print(`file ${id} queued for processing again (was ${file.state}); follow it with: fluxgate files show ${id}`);
    });
};
