import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Attributes } from 'ssh2';
import { FluxgateError } from '../../errors';
import { FILEPART_SUFFIX, isServerTemporary } from '../../upload-names';
import { STATUS, longname, toAttrs } from './attrs';
import type { SessionContext } from './context';
import type { DirHandle } from './handles';
import { handleRequest, safely } from './reply';
import { lstatOrUndefined } from './file-requests';
import { finishInterruptedPublish } from './uploads';

/**
 * Entries per READDIR reply (OpenSSH's sftp-server sends 100). A listing is read from the
 * directory a page at a time, never held whole: a handle costs one descriptor and Node's small
 * read buffer, whatever the size of the directory.
 */
export const READDIR_PAGE = 128;

export function onOpendir(ctx: SessionContext, reqid: number, dirPath: string): void {
  handleRequest(ctx, reqid, 'opendir', dirPath, async () => {
    // Taken before the directory is opened: a flood of OPENDIRs stops at the limits.
    const slot = ctx.handles.reserve();
    try {
      const path = ctx.jail.resolve(dirPath);
      await ctx.jail.assertNoSymlinks(path);
      const st = await lstatOrUndefined(path.real);
      if (!st) throw new FluxgateError('FG_NO_SUCH_FILE', `${path.virtual}: no such directory`, { path: path.virtual });
      if (!st.isDirectory()) throw new FluxgateError('FG_INVALID_VALUE', `${path.virtual} is not a directory`, { path: path.virtual });
      ctx.policy.list(path);
      // Drop-box listings show nothing: no directory to read.
      const dir = ctx.policy.listingsVisible ? await opendir(path.real, { bufferSize: READDIR_PAGE }) : undefined;
      let id: Buffer;
      try {
        id = ctx.handles.add({ kind: 'dir', path, dir, listed: 0, done: false, slot });
      } catch (err) {
        // The session ended while the directory was being opened.
        await dir?.close().catch(() => undefined);
        throw err;
      }
      ctx.audit.debug({ op: 'opendir', path: path.virtual }, 'opendir');
      safely(() => ctx.sftp.handle(reqid, id));
    } catch (err) {
      slot.release();
      throw err;
    }
  });
}

type Entry = { filename: string; longname: string; attrs: Attributes };

/** The next page of the listing: up to READDIR_PAGE entries, fewer at its end, none once it has ended. */
async function nextPage(ctx: SessionContext, h: DirHandle): Promise<Entry[]> {
  const page: Entry[] = [];
  while (h.dir && !h.done && page.length < READDIR_PAGE) {
    const dirent = await h.dir.read();
    if (!dirent) {
      await finishListing(ctx, h);
      break;
    }
    // The server's temporaries (uploads in progress, signatures being written) are never listed.
    if (isServerTemporary(dirent.name)) continue;
    // A file may vanish between the read and lstat (intake moves files out): skip it. Links are never listed.
    const st = await lstat(join(h.path.real, dirent.name)).catch(() => undefined);
    if (!st || st.isSymbolicLink()) continue;
    // The `.filepart` name of a publish killed half way: gone, as STAT says.
    if (dirent.name.endsWith(FILEPART_SUFFIX) && await finishInterruptedPublish(join(h.path.real, dirent.name), st)) continue;
    page.push({ filename: dirent.name, longname: longname(dirent.name, st, ctx.accountId), attrs: toAttrs(st) });
    h.listed++;
  }
  return page;
}

async function finishListing(ctx: SessionContext, h: DirHandle): Promise<void> {
  if (h.done) return;
  h.done = true;
  const dir = h.dir;
  h.dir = undefined;
  await dir?.close().catch(() => undefined);
  ctx.audit.info({ op: 'list', path: h.path.virtual, entries: h.listed }, 'list');
}

export function onReaddir(ctx: SessionContext, reqid: number, id: Buffer): void {
  handleRequest(ctx, reqid, 'readdir', undefined, async () => {
    const h = ctx.handles.get(id);
    if (!h || h.kind !== 'dir') throw new FluxgateError('FG_INVALID_VALUE', 'invalid handle');
    // Pipelined READDIRs of one handle are answered one page after another.
    const previous = h.reading ?? Promise.resolve();
    const page = previous.catch(() => undefined).then(() => nextPage(ctx, h));
    h.reading = page;
    const entries = await page;
    if (entries.length === 0) {
      await finishListing(ctx, h);
      return safely(() => ctx.sftp.status(reqid, STATUS.EOF));
    }
    safely(() => ctx.sftp.name(reqid, entries));
  });
}

/** CLOSE of a directory handle (false, and nothing done, for any other handle: file-requests.ts closes those). */
export function onClosedir(ctx: SessionContext, reqid: number, id: Buffer): boolean {
  const h = ctx.handles.get(id);
  if (h?.kind !== 'dir') return false;
  ctx.handles.take(id);
  void closeDirHandle(h).then(() => safely(() => ctx.sftp.status(reqid, STATUS.OK)));
  return true;
}

/** CLOSE of a directory handle, or its session's end: closes the directory and gives back its slot. */
export async function closeDirHandle(h: DirHandle): Promise<void> {
  try {
    await h.reading?.catch(() => undefined);
    h.done = true;
    const dir = h.dir;
    h.dir = undefined;
    await dir?.close().catch(() => undefined);
  } finally {
    h.slot?.release();
  }
}
