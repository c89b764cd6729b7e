/**
 * The engine's reader for a sandboxed plugin's ctx.records(), on a worker thread that
 * host-worker.ts starts: it reads and parses the input with the engine's own readers
 * (core/records openRows: sniffing, UTF-8 check, csv-parse, value cleaning, XLSX) and writes
 * the raw rows to a FIFO, which the sandbox reads (child-records.ts). Frames (frames.ts): the
 * opening (format, a CSV file's header line), then `{ fields, lines }` per batch, then
 * `{ end: true }`, or `{ error }` at the first problem. Until the sandbox opens the FIFO (the
 * first reader starts with the sandbox, which takes ~0.3 s to load its plugin), at most
 * AHEAD_FRAMES frames are kept; then writes block while the FIFO is full: the parse runs at
 * most WINDOW_BYTES ahead of the plugin (flat memory).
 */
import { once } from 'node:events';
import { closeSync, constants, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { openRows } from '../records';
import { FileRejection } from '../plugin-api/outcome';
import { encodeFrame } from './frames';
import { toWireError, type RecordsRequest } from './protocol';

export interface FeederData {
  fifo: string;
  inputPath: string;
  options: RecordsRequest;
}

/** How long the sandbox has to open the FIFO (it opens it when its plugin calls ctx.records()). */
const OPEN_WITHIN_MS = 60_000;
/** Frames (~400 rows, ~70 KB each) parsed before the sandbox reads: its start, overlapped. */
const AHEAD_FRAMES = 64;
/**
 * Bytes parsed ahead of the sandbox once it reads. A FIFO holds 64 KiB, less than a frame:
 * written straight to it, parse and plugin took turns (the sandbox waited 4.9 s of 9.3 s for rows).
 */
const WINDOW_BYTES = 2 * 1024 * 1024;

const { fifo, inputPath, options } = workerData as FeederData;
const ahead: unknown[] = [];
let out: WriteStream | undefined;

/** Opens the FIFO for writing once the sandbox has it open for reading: never blocks on a sandbox that is gone. */
function tryOpen(): boolean {
  let probe: number;
  try {
    // ENXIO while no reader has it open; with one, the blocking open returns at once.
    probe = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    return false;
  }
  const fd = openSync(fifo, 'w');
  closeSync(probe);
  // Written from libuv's threads: the parse goes on while a write waits for the sandbox to read.
  out = createWriteStream('', { fd, highWaterMark: WINDOW_BYTES });
  out.on('error', () => undefined); // seen by the next write (once() rejects with it)
  return true;
}

/** No reader came: the plugin read no records, or none of this reader's options. */
class NeverOpened extends Error {}

async function waitForReader(): Promise<void> {
  const until = Date.now() + OPEN_WITHIN_MS;
  while (!tryOpen()) {
    if (Date.now() > until) throw new NeverOpened('the sandbox never opened its records');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function write(frame: unknown): Promise<void> {
  if (out!.errored) throw out!.errored;
  if (!out!.write(encodeFrame(frame))) await once(out!, 'drain');
}

/** Writes a frame, or keeps it while the sandbox has not opened the FIFO (waiting for it past AHEAD_FRAMES). */
async function send(frame: unknown): Promise<void> {
  if (!out && !tryOpen()) {
    ahead.push(frame);
    if (ahead.length < AHEAD_FRAMES) return;
    await waitForReader();
  }
  for (const kept of ahead.splice(0)) await write(kept);
  await write(frame);
}

/** The plugin stopped reading (EPIPE), or never began. */
const quietEnd = (err: unknown): boolean => err instanceof NeverOpened || (err as NodeJS.ErrnoException).code === 'EPIPE';

async function produce(): Promise<void> {
  try {
    const { opening, rows } = await openRows(inputPath, options);
    await send(opening);
    for await (const batch of rows) await send({ fields: batch.fields, lines: batch.lines });
    await send({ end: true });
  } catch (err) {
    if (quietEnd(err)) throw err;
    await send({ error: { ...toWireError(err), rejection: err instanceof FileRejection } });
  }
}

async function feed(): Promise<void> {
  try {
    await produce();
    // A small file is all kept: written once the sandbox opens the FIFO.
    if (!out) await waitForReader();
    for (const kept of ahead.splice(0)) await write(kept);
    out!.end();
    await once(out!, 'finish');
  } catch (err) {
    if (!quietEnd(err)) throw err;
  } finally {
    out?.destroy();
  }
}

void feed();
