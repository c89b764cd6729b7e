import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { FluxgateError } from '../errors';
import { MAX_FRAME_BYTES } from './frames';

/**
 * A ctx.directory.batch's body goes through a file of the run's spool folder (`sandbox-batches/`
 * in the file's work folder: the sandbox may write there, nowhere else of it), in V8's
 * serialization, and only its number through the requests' FIFO. Through the FIFO itself, a
 * 450 KB batch took ~7 turns of a 64 KiB pipe, each waiting for the other process to be
 * scheduled: on a loaded machine that was seconds per file; and V8 writes a batch's values (mostly
 * strings) several times faster than JSON.stringify (0.08 s against 0.27 s for a 200,000-row sal
 * file). The engine reads it once, checks it as it decodes it (batch-wire.ts: the sandbox is
 * not trusted) and removes it.
 */

/** The sandbox's side: writes batch `n` and returns the frame that names it. */
export function spoolBatch(dir: string, n: number, ops: unknown): { t: 'batch'; spooled: number } {
  const body = serialize(ops);
  if (body.length > MAX_FRAME_BYTES) {
    throw new FluxgateError('FG_PLUGIN_INVALID', `a ctx.directory.batch of ${body.length} bytes, over the limit of ${MAX_FRAME_BYTES}: split the batch`,
      { bytes: body.length, limit: MAX_FRAME_BYTES });
  }
  writeFileSync(join(dir, String(n)), body, { mode: 0o600 });
  return { t: 'batch', spooled: n };
}

/**
 * The engine's side: the operations of spooled batch `n` (a regular file of one link, never a
 * symbolic link, at most MAX_FRAME_BYTES), the file removed. FG_PLUGIN_INVALID for anything else.
 */
export function readSpooled(dir: string, n: unknown): unknown {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw invalid(`a spooled batch number ${String(n)}`);
  const path = join(dir, String(n));
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw invalid(`spooled batch ${n} cannot be opened (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.nlink !== 1 || stat.size > MAX_FRAME_BYTES) throw invalid(`spooled batch ${n} is not a plain file of at most ${MAX_FRAME_BYTES} bytes`);
    const body = Buffer.allocUnsafe(stat.size);
    let got = 0;
    while (got < body.length) {
      const k = readSync(fd, body, got, body.length - got, null);
      if (k === 0) break;
      got += k;
    }
    try {
      return deserialize(body.subarray(0, got));
    } catch {
      throw invalid(`spooled batch ${n} is not in V8's serialization`);
    }
  } finally {
    closeSync(fd);
    try { unlinkSync(path); } catch { /* not a file (refused above): it goes with the run's work folder */ }
  }
}

function invalid(what: string): FluxgateError {
  return new FluxgateError('FG_PLUGIN_INVALID', `a ctx.directory.batch from the sandbox that the engine cannot read: ${what} (sandbox protocol)`, {});
}
