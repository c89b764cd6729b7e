import { readSync, writeSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { FluxgateError } from '../errors';

/**
 * The sandbox protocol's framing: a 4-byte big-endian length, then that many bytes of JSON, or
 * of V8's serialization (node:v8) when the length's high bit is set: a directory batch from the
 * sandbox, mostly strings, which V8 writes several times faster than JSON.stringify (0.08 s
 * against 0.27 s for a 200,000-row sal file's batches; docs/benchmarks.md). Only the engine
 * reads such frames, and only as a batch (readFrame's `v8`), checked value by value
 * (batch-wire.ts): it is the sandbox's, untrusted.
 * Both ends read and write synchronously on blocking file descriptors (two FIFOs): a single
 * ctx.directory call from the sandbox blocks until its answer (microseconds away: a poll would
 * add a millisecond to each) and resolves its Promise with it. The answer to a batch is read
 * later, as pollFrame finds it (child-channel.ts), while the plugin goes on.
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const V8_BODY = 0x80000000;

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
  return frameOf(Buffer.from(JSON.stringify(message), 'utf8'), 0);
}

/** A message as a frame of V8's serialization (a batch from the sandbox). */
export function encodeV8Frame(message: unknown): Buffer {
  return frameOf(serialize(message), V8_BODY);
}

function frameOf(body: Buffer, flag: number): Buffer {
  if (body.length > MAX_FRAME_BYTES) {
    throw new FluxgateError('FG_PLUGIN_INVALID', `a message of ${body.length} bytes between the sandbox and the engine, over the limit of ${MAX_FRAME_BYTES}: `
      + 'split the batch, or read the directory in smaller parts', { bytes: body.length, limit: MAX_FRAME_BYTES });
  }
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE((body.length | flag) >>> 0, 0);
  body.copy(frame, 4);
  return frame;
}

/** What a reader makes of a frame of V8's serialization (its message, checked); without it such a frame is refused. */
export type V8Reader<T> = (message: unknown) => T;

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
export function readFrame<T = unknown>(fd: number, v8?: V8Reader<T>): T | undefined {
  const head = readExactly(fd, 4);
  return head ? readBody<T>(fd, head, v8) : undefined;
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

function readBody<T>(fd: number, head: Buffer, v8?: V8Reader<T>): T | undefined {
  const word = head.readUInt32BE(0);
  const length = word & ~V8_BODY;
  if (length > MAX_FRAME_BYTES) throw new Error(`sandbox protocol: a frame of ${length} bytes (at most ${MAX_FRAME_BYTES})`);
  const isV8 = word >= V8_BODY;
  if (isV8 && !v8) throw new Error('sandbox protocol: a frame of V8\'s serialization where JSON was expected');
  const body = readExactly(fd, length);
  if (!body) return undefined;
  return isV8 ? v8!(deserialize(body)) : JSON.parse(body.toString('utf8')) as T;
}
