import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirectory as fsyncDir, writeFileAtomicSync } from '../atomic-write';
import type { DataRoot, DataRootName } from './data-roots';

const DIR_MODE = 0o750;
export const MANIFEST = 'removal.json';
export const MANIFEST_FORMAT = 'fluxgate-account-removal/1';

/** What `removal.json` says: written when the removal starts, updated at each stage, `finishedAt` set last. */
export interface RemovalManifest {
  format: string;
  accountId: string;
  startedAt: string;
  /** Null while the removal is unfinished: `account remove` run again resumes it in this folder. */
  finishedAt: string | null;
  /** The account and its keys when the removal started (null: its row was already gone). */
  account: (Record<string, unknown> & { createdAt?: string | null }) | null;
  /** Each data root moved here: where it was, the sub-folder it is now. */
  moved: Array<{ name: DataRootName; from: string; to: string }>;
  /** Rows written to directory.json and journal.json, by section. */
  exports: Record<string, Record<string, number>>;
  /** Rows deleted from the database, by table (once done). */
  deleted: Record<string, number> | null;
}

/** `20261121T084512Z`: sorts by time, and has no character a file system or a shell minds. */
export function utcStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}


export function readManifest(folder: string): RemovalManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(folder, MANIFEST), 'utf8')) as RemovalManifest;
    return m.format === MANIFEST_FORMAT ? m : undefined;
  } catch {
    return undefined; // a folder of an older fluxgate (just the tree), or not ours
  }
}

export function writeManifest(folder: string, manifest: RemovalManifest): void {
  writeFileAtomicSync(join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o640, durable: true });
}

/**
 * The removal of this account that a crash or a refusal left unfinished, if any (the latest).
 * Folder names are not trusted to tell accounts apart (`a-b-…` may be account `a` or `a-b`): the
 * manifest says whose it is.
 */
export function findUnfinished(removedDir: string, accountId: string): { folder: string; manifest: RemovalManifest } | undefined {
  if (!existsSync(removedDir)) return undefined;
  const candidates = readdirSync(removedDir).filter((n) => n.startsWith(`${accountId}-`)).sort().reverse();
  for (const name of candidates) {
    const folder = join(removedDir, name);
    const manifest = readManifest(folder);
    if (manifest && manifest.accountId === accountId && manifest.finishedAt === null) return { folder, manifest };
  }
  return undefined;
}

/** A new `<removed>/<id>-<UTC stamp>[-n]/`, never one that exists (mkdir is the test). */
export function createFolder(removedDir: string, accountId: string, at: Date): string {
  mkdirSync(removedDir, { recursive: true, mode: DIR_MODE });
  const base = join(removedDir, `${accountId}-${utcStamp(at)}`);
  for (let n = 1; ; n++) {
    const folder = n === 1 ? base : `${base}-${n}`;
    try {
      mkdirSync(folder, { mode: DIR_MODE });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    fsyncDir(removedDir);
    return folder;
  }
}

/**
 * Moves one data root into the folder, as `<name>/` (`<name>-2/`… when a resumed removal
 * already moved a root of that name and it reappeared). A rename: all or nothing, nothing copied.
 */
export function moveRoot(root: DataRoot, folder: string): string {
  let to = root.name as string;
  for (let n = 2; existsSync(join(folder, to)); n++) to = `${root.name}-${n}`;
  renameSync(root.path, join(folder, to));
  fsyncDir(folder);
  fsyncDir(dirname(root.path));
  return to;
}
