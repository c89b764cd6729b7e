import { closeSync, openSync } from 'node:fs';
import { rejectFile } from '../plugin-api/outcome';
import type { RecordReaderOptions, SourceRecord } from '../plugin-api/records';
import { chooseFormat, readRecords, recordsFromRows, type RowBatch, type RowsOpening } from '../records';
import type { ChildChannel } from './child-channel';
import { readFrame } from './frames';
import type { WireError } from './protocol';

/**
 * ctx.records() in the sandbox. A CSV input is read and parsed here, on the sandbox's thread,
 * with the engine's reader (core/records readRecords: the same sniffing, UTF-8 check, QuickCsv
 * or csv-parse, records and errors as in the server's process): QuickCsv takes less CPU than
 * sending parsed rows over a FIFO took (JSON both ways, docs/benchmarks.md 2026-12-07
 * perf-sal), and on two cores the sandboxed path is bound by its total CPU. An XLSX input comes
 * from the engine (remoteRecords): its reader needs what the permission model refuses.
 */
export function sandboxRecords(channel: ChildChannel, options: RecordReaderOptions, inputPath: string, fileName: string): AsyncIterableIterator<SourceRecord> {
  const named = { ...options, fileName: options.fileName ?? fileName };
  return chooseFormat(inputPath, named) === 'csv' ? readRecords(inputPath, named) : remoteRecords(channel, options, fileName);
}

type RowsFrame = { fields: string[][]; lines: number[] } | { end: true } | { error: WireError };

/**
 * ctx.records() in the sandbox: the engine reads and parses the input (records-feeder.ts) and
 * sends its rows, already cleaned, through a FIFO of this call's own; the records, the header
 * checks (with the plugin's normalizeHeader) and their errors are built here by the engine's
 * code (core/records recordsFromRows), so they are those a plugin in the server's process gets.
 * Parsing CSV in JavaScript was most of a sandbox's work; JSON.parse of arrays of strings is native.
 */
export function remoteRecords(channel: ChildChannel, options: RecordReaderOptions, fileName: string): AsyncIterableIterator<SourceRecord> {
  let inner: AsyncIterator<SourceRecord> | undefined;
  const open = (): AsyncIterator<SourceRecord> => {
    const fifo = channel.ask({ t: 'records', options: { dialect: options.dialect, format: options.format, fileName: options.fileName ?? fileName } }) as string;
    const fd = openSync(fifo, 'r');
    const first = readFrame<RowsOpening | { error: WireError }>(fd);
    if (!first || 'error' in first) {
      closeSync(fd);
      throw first ? revive(first.error) : gone();
    }
    return recordsFromRows(first, rowsFrom(fd), { ...options, fileName: options.fileName ?? fileName });
  };
  return {
    [Symbol.asyncIterator]() { return this; },
    next() {
      // Opened on the first next(); an error there (the file rejected) rejects it.
      return Promise.resolve().then(() => (inner ??= open()).next());
    },
    async return(value?: unknown) {
      if (inner?.return) await inner.return();
      return { done: true as const, value: value as SourceRecord };
    },
  };
}

/** The batches of rows from the FIFO, read as the records are taken (the engine waits on a full FIFO). */
// eslint-disable-next-line @typescript-eslint/require-await -- blocking reads, as the sandbox's other frames; the record reader takes an async source
async function* rowsFrom(fd: number): AsyncGenerator<RowBatch> {
  try {
    for (;;) {
      const frame = readFrame<RowsFrame>(fd);
      if (!frame) throw gone();
      if ('end' in frame) return;
      if ('error' in frame) throw revive(frame.error);
      yield { fields: frame.fields, lines: frame.lines, clean: true };
    }
  } finally {
    closeSync(fd); // an iteration left early: the engine's reader stops (EPIPE)
  }
}

/** The engine's error as the plugin would get it in the server's process: a file rejection keeps its code. */
function revive(error: WireError): Error {
  if (error.rejection && error.code) return rejectFile(error.code as never, error.message, error.details);
  return Object.assign(new Error(error.message), { name: error.name, code: error.code, details: error.details });
}

function gone(): Error {
  return new Error('the engine stopped sending the input\'s records before their end');
}
