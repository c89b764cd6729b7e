import { readSync, writeSync } from 'node:fs';

/**
 * The sandbox protocol's framing: a 4-byte big-endian length, then that many bytes of JSON.
 * Both ends read and write synchronously on blocking file descriptors (two FIFOs): the plugin
 * API's directory is synchronous (`ctx.directory.upsertEmployee` returns its answer, a
 * `transaction(fn)` runs fn synchronously), so a call from the sandbox waits for its answer.
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function writeFrame(fd: number, message: unknown): void {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  let written = 0;
  while (written < frame.length) written += writeSync(fd, frame, written, frame.length - written);
}

/** Reads exactly `length` bytes; undefined when the other end is gone before that. */
function readExactly(fd: number, length: number): Buffer | undefined {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    let n: number;
    try {
      n = readSync(fd, buf, got, length - got, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) return undefined;
    got += n;
  }
  return buf;
}

/** The next frame's message, or undefined at the end of the stream. */
export function readFrame<T = unknown>(fd: number): T | undefined {
  const head = readExactly(fd, 4);
  if (!head) return undefined;
  const length = head.readUInt32BE(0);
  if (length > MAX_FRAME_BYTES) throw new Error(`sandbox protocol: a frame of ${length} bytes (at most ${MAX_FRAME_BYTES})`);
  const body = readExactly(fd, length);
  if (!body) return undefined;
  return JSON.parse(body.toString('utf8')) as T;
}
