import { existsSync } from 'node:fs';
import { FluxgateError } from '../errors';
import type { FileJobs } from '../queue/file-jobs';
import type { FileState } from '../store/journal-types';
import type { JournalRepository } from '../store/ports/journal';

const REPLAYABLE: readonly FileState[] = ['processed', 'rejected', 'dead'];

export interface Replayed { id: string; from: FileState; state: 'received'; queued: true; location: string }

/**
 * Processes an archived or quarantined file again: back to `received`, a `replay` event and
 * its queue job (the attempts of its workflow), in one transaction; the running server's
 * workers pick it up.
 */
export async function replayFile(id: string, journal: JournalRepository, files: FileJobs): Promise<Replayed> {
  const file = await journal.get(id);
  if (!file) throw new FluxgateError('FG_FILE_NOT_FOUND', `no file ${id} in the journal (see fluxgate files)`, { fileId: id });
  if (!REPLAYABLE.includes(file.state)) {
    throw new FluxgateError('FG_REPLAY', `file ${id} is ${file.state}: only processed, rejected or dead files can be replayed`, { fileId: id });
  }
  if (!existsSync(file.location)) {
    throw new FluxgateError('FG_REPLAY', `file ${id} is no longer at ${file.location} (removed by retention?): nothing to replay`, { fileId: id });
  }
  // The proof of receipt was made once and stays; a new report replaces the old one.
  await journal.replayWithJob(id, file.state, file.location, files.jobFor(file));
  files.wake();
  return { id, from: file.state, state: 'received', queued: true, location: file.location };
}
