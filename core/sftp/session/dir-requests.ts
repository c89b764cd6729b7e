import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FluxgateError } from '../../errors';
import { isServerTemporary } from '../../upload-names';
import { STATUS, longname, toAttrs } from './attrs';
import type { SessionContext } from './context';
import type { DirHandle } from './handles';
import { handleRequest, safely } from './reply';
import { lstatOrUndefined } from './file-requests';

const BATCH = 128;

export function onOpendir(ctx: SessionContext, reqid: number, dirPath: string): void {
  handleRequest(ctx, reqid, 'opendir', dirPath, async () => {
    const path = ctx.jail.resolve(dirPath);
    await ctx.jail.assertNoSymlinks(path);
    const st = await lstatOrUndefined(path.real);
    if (!st) throw new FluxgateError('FG_NO_SUCH_FILE', `${path.virtual}: no such directory`, { path: path.virtual });
    if (!st.isDirectory()) throw new FluxgateError('FG_INVALID_VALUE', `${path.virtual} is not a directory`, { path: path.virtual });
    ctx.policy.list(path);
    const id = ctx.handles.add({ kind: 'dir', path, position: 0 });
    if (!id) throw new FluxgateError('FG_PERMISSION_DENIED', 'too many open handles in this session');
    ctx.audit.debug({ op: 'opendir', path: path.virtual }, 'opendir');
    safely(() => ctx.sftp.handle(reqid, id));
  });
}

async function loadEntries(ctx: SessionContext, h: DirHandle): Promise<NonNullable<DirHandle['entries']>> {
  if (!ctx.policy.listingsVisible) return [];
  const names = (await readdir(h.path.real)).filter((n) => !isServerTemporary(n)).sort();
  const entries: NonNullable<DirHandle['entries']> = [];
  for (const name of names) {
    // A file may vanish between readdir and lstat (intake moves files out): skip it.
    const st = await lstat(join(h.path.real, name)).catch(() => undefined);
    if (!st || st.isSymbolicLink()) continue;
    entries.push({ filename: name, longname: longname(name, st, ctx.accountId), attrs: toAttrs(st) });
  }
  return entries;
}

export function onReaddir(ctx: SessionContext, reqid: number, id: Buffer): void {
  handleRequest(ctx, reqid, 'readdir', undefined, async () => {
    const h = ctx.handles.get(id);
    if (!h || h.kind !== 'dir') throw new FluxgateError('FG_INVALID_VALUE', 'invalid handle');
    if (!h.entries) {
      h.entries = await loadEntries(ctx, h);
      ctx.audit.info({ op: 'list', path: h.path.virtual, entries: h.entries.length }, 'list');
    }
    if (h.position >= h.entries.length) return safely(() => ctx.sftp.status(reqid, STATUS.EOF));
    const batch = h.entries.slice(h.position, h.position + BATCH);
    h.position += batch.length;
    safely(() => ctx.sftp.name(reqid, batch));
  });
}
