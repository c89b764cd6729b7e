import { readSync, writeSync } from 'node:fs';
import { FluxgateError } from '../errors';

/**
 * The sandbox protocol's framing: a 4-byte big-endian length, then that many bytes of JSON.
 * Both ends read and write synchronously on blocking file descriptors (two FIFOs): a single
 * ctx.directory call from the sandbox blocks until its answer (microseconds away: a poll would
 * add a millisecond to each) and resolves its Promise with it. The answer to a batch is read
 * later, as pollFrame finds it (child-channel.ts), while the plugin goes on. A batch's body does
 * not cross here but through a file (batch-spool.ts).
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function writeFrame(fd: number, message: unknown): void {
  writeBytes(fd, encodeFrame(message));
}

/** Writes a whole frame (blocking). */
export function writeBytes(fd: number, frame: Buffer): void {
  let written = 0;
  while (written < frame.length) written += writeSync(fd, frame, written, frame.length - written);
}

/** A message as a frame's bytes (length, then JSON). */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME_BYTES) {
    throw new FluxgateError('FG_PLUGIN_INVALID', `a message of ${body.length} bytes between the sandbox and the engine, over the limit of ${MAX_FRAME_BYTES}: `
      + 'split the batch, or read the directory in smaller parts', { bytes: body.length, limit: MAX_FRAME_BYTES });
  }
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Reads exactly `length` bytes (`got` of them already in `buf`); undefined when the other end is gone before that. */
function readExactly(fd: number, length: number, buf = Buffer.allocUnsafe(length), got = 0): Buffer | undefined {
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
  return head ? readBody<T>(fd, head) : undefined;
}

/** No frame has begun to arrive yet. */
export const NOTHING_YET: unique symbol = Symbol('nothing yet');

/**
 * The next frame's message if it has begun to arrive, NOTHING_YET if not, undefined at the end
 * of the stream. `nonBlocking` is the stream opened with O_NONBLOCK, `fd` the same stream
 * blocking: a frame begun is read to its end (the writer writes a frame at once).
 */
export function pollFrame<T = unknown>(nonBlocking: number, fd: number): T | undefined | typeof NOTHING_YET {
  const head = Buffer.allocUnsafe(4);
  let got: number;
  try {
    got = readSync(nonBlocking, head, 0, 4, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return NOTHING_YET;
    throw err;
  }
  if (got === 0) return undefined;
  return readExactly(fd, 4, head, got) ? readBody<T>(fd, head) : undefined;
}

function readBody<T>(fd: number, head: Buffer): T | undefined {
  const length = head.readUInt32BE(0);
  if (length > MAX_FRAME_BYTES) throw new Error(`sandbox protocol: a frame of ${length} bytes (at most ${MAX_FRAME_BYTES})`);
  const body = readExactly(fd, length);
  if (!body) return undefined;
  return JSON.parse(body.toString('utf8')) as T;
}
