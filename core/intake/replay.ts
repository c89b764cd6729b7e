import { existsSync } from 'node:fs';
import { FluxgateError } from '../errors';
import type { Database } from '../store/database';
import { JournalRepository, type FileState } from '../store/journal-repository';
import { QueueRepository } from '../store/queue-repository';
import { PROCESS_TOPIC } from './intake';

const REPLAYABLE: readonly FileState[] = ['processed', 'rejected', 'dead'];

export interface Replayed { id: string; from: FileState; state: 'received'; queued: true; location: string }

/**
 * Processes an archived or quarantined file again: back to `received`, a `replay` event,
 * a queue job (the running server's workers pick it up). `fluxgate replay` and
 * POST /api/v1/files/{id}/replay both call this.
 */
export function replayFile(db: Database, id: string, maxAttempts: number): Replayed {
  const journal = new JournalRepository(db);
  const file = journal.get(id);
  if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal (see fluxgate files)`, { fileId: id });
  if (!REPLAYABLE.includes(file.state)) {
    throw new FluxgateError('FG_REPLAY', `file ${id} is ${file.state}: only processed, rejected or dead files can be replayed`, { fileId: id });
  }
  if (!existsSync(file.location)) {
    throw new FluxgateError('FG_REPLAY', `file ${id} is no longer at ${file.location} (removed by retention?): nothing to replay`, { fileId: id });
  }
  const queue = new QueueRepository(db);
  journal.transaction(() => {
    // The proof of receipt was made once and stays; a new report replaces the old one.
    journal.update(id, { state: 'received', attempts: 0, outcome: null, processedAt: null });
    journal.addEvent(id, 'replay', { from: file.state, location: file.location });
    queue.insert({ topic: PROCESS_TOPIC, payload: { fileId: id }, dedupKey: id, accountId: file.accountId, maxAttempts });
  });
  return { id, from: file.state, state: 'received', queued: true, location: file.location };
}
