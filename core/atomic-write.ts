import { closeSync, constants, copyFileSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync, type PathLike } from 'node:fs';
import { link, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { temporaryNameFor } from './upload-names';

/**
 * The one way fluxgate writes a file that others may read while it is written (reports,
 * receipts, signatures, keys, plaintexts, exports): written whole under a hidden temporary name
 * next to it (`temporaryNameFor`: same file system, swept at start-up if its writer died), then
 * renamed into place, or linked when it must not replace anything. A reader sees no file or the
 * whole file, never a part; a failed write leaves nothing behind.
 */
export interface AtomicWriteOptions {
  /** The file's mode (applied with chmod too: the umask does not narrow it). */
  mode: number;
  /** fsync the file before placing it and its directory after: it survives a power cut. */
  durable?: boolean;
  /**
   * Place it with link(2), which fails when the name exists (whatever it is), instead of
   * rename(2), which replaces it: the call then returns false and the existing file is untouched.
   */
  exclusive?: boolean;
  /** Streams only: stops the copy (the temporary file is removed). */
  signal?: AbortSignal;
  /** Streams only: transforms the content passes through on its way to the file. */
  through?: readonly Transform[];
  /**
   * false: the mode is given to open() only (the umask may narrow it), no chmod: Node's
   * permission model disables fchmod, and a sandboxed plugin writes through here (core/sandbox).
   */
  chmod?: boolean;
}

/** Returns false only when `exclusive` and the target already exists. */
export async function writeFileAtomic(path: string, content: string | Uint8Array | Readable, options: AtomicWriteOptions): Promise<boolean> {
  const placed = await writeFileAtomicPlaced(path, content, options, async (temp) => (await place(temp, path, options.exclusive ?? false) ? path : undefined));
  return placed !== undefined;
}

/**
 * The same, where `placeFinished` gives the finished temporary file its name (renames or links
 * it: output-place.ts picks a free `name.N.ext`) and returns the path used, undefined when it
 * placed nothing. The temporary name is removed in any case.
 */
export async function writeFileAtomicPlaced<T extends string | undefined>(path: string, content: string | Uint8Array | Readable,
  options: AtomicWriteOptions, placeFinished: (temp: string) => Promise<T>): Promise<T> {
  const temp = temporaryNameFor(path);
  try {
    const handle = await open(temp, 'wx', options.mode);
    try {
      if (options.chmod !== false) await handle.chmod(options.mode); // the umask may have narrowed the mode given to open()
      if (typeof content === 'string' || content instanceof Uint8Array) {
        await handle.writeFile(content);
        if (options.durable) await handle.sync();
      } else {
        // The stream closes the handle when it ends or fails (flush: fsync before that close).
        await pipeline([content, ...(options.through ?? []), handle.createWriteStream({ flush: options.durable ?? false })], { signal: options.signal });
      }
    } finally {
      if (handle.fd !== -1) await handle.close();
    }
    const placed = await placeFinished(temp);
    if (placed !== undefined && options.durable) fsyncDirectory(dirname(placed));
    return placed;
  } finally {
    // After a rename the temporary name is gone; after a link (or a failure) it is removed.
    await rm(temp, { force: true });
  }
}

/**
 * Synchronous form (start-up, CLI commands, account removal). `content` may be a function that
 * writes to the open descriptor (a large export written in pieces).
 */
export function writeFileAtomicSync(path: string, content: string | Uint8Array | ((fd: number) => void), options: Omit<AtomicWriteOptions, 'signal' | 'through'>): boolean {
  const temp = temporaryNameFor(path);
  let placed = false;
  try {
    const fd = openSync(temp, 'wx', options.mode);
    try {
      if (typeof content === 'function') content(fd);
      else writeFully(fd, content);
      fchmodSync(fd, options.mode);
      if (options.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    placed = placeSync(temp, path, options.exclusive ?? false);
    if (placed && options.durable) fsyncDirectory(dirname(path));
    return placed;
  } finally {
    if (!placed || options.exclusive) rmSync(temp, { force: true });
  }
}

/**
 * Copies `source` to `target` the same way (another file system, where a rename cannot move it):
 * a crash part way leaves a temporary name, never a truncated file under the target's name.
 */
export function copyFileAtomicSync(source: string, target: string): void {
  const temp = temporaryNameFor(target);
  try {
    copyFileSync(source, temp, constants.COPYFILE_EXCL);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Makes a rename or a new file in `dir` survive a power cut. */
export function fsyncDirectory(dir: PathLike): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

async function place(temp: string, path: string, exclusive: boolean): Promise<boolean> {
  if (!exclusive) {
    await rename(temp, path);
    return true;
  }
  return linkIfAbsent(temp, path);
}

/** Gives `temp` the name `path` only if no file has it (link(2) never replaces); false when one does. */
export async function linkIfAbsent(temp: string, path: string): Promise<boolean> {
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function placeSync(temp: string, path: string, exclusive: boolean): boolean {
  if (!exclusive) {
    renameSync(temp, path);
    return true;
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** writeSync until every byte is written (one call may write less). */
export function writeFully(fd: number, content: string | Uint8Array): void {
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset);
}
