import { existsSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { copyFileAtomicSync } from '../atomic-write';
import type { DataPaths } from '../config/paths';
import type { JournalFile } from '../store/journal-types';
import type { JournalRepository } from '../store/ports/journal';

export const UNMATCHED_FLUX = 'unmatched';

/**
 * Destinations are derived from the file id, so a move interrupted by a crash is finished
 * (or found already done) by the next attempt instead of producing a second copy.
 */
export function archiveDestination(paths: DataPaths, file: JournalFile): string {
  return join(paths.archive(file.accountId, file.flux ?? UNMATCHED_FLUX), `${file.id}_${file.name}`);
}

export function quarantineDestination(paths: DataPaths, file: JournalFile): string {
  return join(paths.quarantine(file.accountId, file.flux ?? UNMATCHED_FLUX), `${file.id}_${file.name}`);
}

/** Moves the input and records its new location; returns the refreshed journal entry. */
export async function moveInput(journal: JournalRepository, file: JournalFile, destination: string, eventType: string): Promise<JournalFile> {
  if (file.location === destination) return file;
  if (existsSync(file.location)) {
    mkdirSync(dirname(destination), { recursive: true, mode: 0o750 });
    try {
      renameSync(file.location, destination);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      copyFileAtomicSync(file.location, destination);
      unlinkSync(file.location);
    }
  } else if (!existsSync(destination)) {
    throw new Error(`the input ${file.location} has vanished`);
  }
  return journal.moved(file.id, destination, eventType, { from: file.location, to: destination });
}

/** After a crash between a rename and its journal update, the input is at one of its derived destinations. */
export async function findInput(paths: DataPaths, journal: JournalRepository, file: JournalFile): Promise<JournalFile | undefined> {
  if (existsSync(file.location)) return file;
  for (const candidate of [archiveDestination(paths, file), quarantineDestination(paths, file)]) {
    if (existsSync(candidate)) return journal.moved(file.id, candidate, 'location-repaired', { to: candidate });
  }
  return undefined;
}
