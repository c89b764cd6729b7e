import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FluxgateError } from '../../errors';
import { tempUploadName } from '../../upload-names';
import type { JailedPath } from '../path-jail';

/**
 * Atomic uploads. A file only ever appears under its final name complete: either renamed from
 * the client's `.filepart`, or linked from the hidden temporary name when the client closes it.
 * `link` fails when the target exists, which makes "never replace a completed file" atomic.
 */

export function tempPathFor(final: JailedPath): string {
  return join(dirname(final.real), tempUploadName(final.name, randomBytes(6).toString('hex')));
}

/** Gives `from` the name `to` without ever replacing an existing file (unless `mayReplace`). */
export async function publish(fromReal: string, to: JailedPath, mayReplace: boolean): Promise<void> {
  try {
    await link(fromReal, to.real);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // The same file under both names: this publish was done before, up to its unlink.
    if (await sameFile(fromReal, to.real)) { await discard(fromReal); return; }
    if (!mayReplace) {
      throw new FluxgateError('FG_FILE_EXISTS', `${to.virtual} already exists and is complete: upload under another name`, { path: to.virtual });
    }
    await rename(fromReal, to.real);
    return;
  }
  await unlink(fromReal);
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([lstat(a).catch(() => undefined), lstat(b).catch(() => undefined)]);
  return sa !== undefined && sb !== undefined && sa.ino === sb.ino && sa.dev === sb.dev;
}

/**
 * A `.filepart` with more than one name was published (the server links no file but to publish
 * it) by a publish killed between its link and its unlink: the process died, or the node. Its
 * upload is complete under its final name (or wherever intake moved it since), so the
 * `.filepart` name goes before any request looks at it: a client that finds its `.filepart`
 * gone knows its rename took effect, and a client that uploads it again writes a new file
 * instead of truncating the published one in place. True when it was such a name.
 */
export async function finishInterruptedPublish(real: string, st: Stats | undefined): Promise<boolean> {
  if (!st?.isFile() || st.nlink < 2) return false;
  await discard(real);
  return true;
}

export async function discard(real: string): Promise<void> {
  await unlink(real).catch(() => undefined);
}
