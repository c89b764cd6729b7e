/**
 * The engine's reader for a sandboxed plugin's ctx.records(), on a worker thread that
 * host-worker.ts starts for each call: it reads and parses the input with the engine's own
 * readers (core/records openRows: sniffing, UTF-8 check, csv-parse, value cleaning, XLSX) and
 * writes the raw rows to the call's FIFO, which the sandbox reads (child-records.ts). Frames
 * (frames.ts): the opening (format, a CSV file's header line), then `{ fields, lines }` per
 * batch, then `{ end: true }`, or `{ error }` at the first problem. Writes block while the
 * FIFO is full: the parse runs at most a batch and a pipe ahead of the plugin (flat memory).
 */
import { closeSync, constants, openSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { openRows } from '../records';
import { FileRejection } from '../plugin-api/outcome';
import { writeFrame } from './frames';
import { toWireError, type RecordsRequest } from './protocol';

export interface FeederData {
  fifo: string;
  inputPath: string;
  options: RecordsRequest;
}

/** How long the sandbox has to open the FIFO after it was told its path (it opens it at once). */
const OPEN_WITHIN_MS = 30_000;

const { fifo, inputPath, options } = workerData as FeederData;

/** Opens the FIFO for writing once the sandbox has it open for reading: never blocks on a sandbox that is gone. */
async function openWriter(): Promise<number | undefined> {
  const until = Date.now() + OPEN_WITHIN_MS;
  for (;;) {
    try {
      // ENXIO while no reader has it open; with one, the blocking open returns at once.
      const probe = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      const fd = openSync(fifo, 'w');
      closeSync(probe);
      return fd;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > until) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

async function feed(): Promise<void> {
  const fd = await openWriter();
  if (fd === undefined) return;
  try {
    try {
      const { opening, rows } = await openRows(inputPath, options);
      writeFrame(fd, opening);
      for await (const batch of rows) writeFrame(fd, { fields: batch.fields, lines: batch.lines });
      writeFrame(fd, { end: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return; // the plugin stopped reading
      writeFrame(fd, { error: { ...toWireError(err), rejection: err instanceof FileRejection } });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  } finally {
    closeSync(fd);
  }
}

void feed();
