import { randomBytes } from 'node:crypto';
import { link, rename, unlink } from 'node:fs/promises';
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
    if (!mayReplace) {
      throw new FluxgateError('FG_FILE_EXISTS', `${to.virtual} already exists and is complete: upload under another name`, { path: to.virtual });
    }
    await rename(fromReal, to.real);
    return;
  }
  await unlink(fromReal);
}

export async function discard(real: string): Promise<void> {
  await unlink(real).catch(() => undefined);
}
