import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { FileRejection, rejectFile } from '../plugin-api/outcome';
import type { Dialect } from '../plugin-api/records';
import { cleanValue, SEPARATORS } from './header';
import { Utf8Guard } from './utf8';

const QUOTES = { exchange: "'", dropbox: '"' } as const;
/** CRLF (Windows), LF (Unix), lone CR (old Mac), alone or mixed in one file. */
const RECORD_ENDS = ['\r\n', '\n', '\r'];

/**
 * Rows as csv-parse gives them, with the line each starts on (csv-parse counts a CRLF inside
 * a quoted value as two lines, so lines are counted here). `clean`: the values are already
 * trimmed and NFC-normalised (cleanValue), as rows parsed on the worker thread are.
 */
export interface RowBatch { fields: string[][]; lines: number[]; clean: boolean }

/** How rows are read. `limit`: stop after that many records. `clean`: trim and normalise every value here. */
export interface RowOptions { signal?: AbortSignal; limit?: number; clean?: boolean }

/** Where a reader's raw rows come from: this thread, or the parse worker (csv-thread.ts). */
export type RowSource = (path: string, dialect: Dialect, options?: RowOptions) => AsyncGenerator<RowBatch>;

/**
 * The raw rows of a CSV file, in batches (what the parser has ready): one promise per batch
 * rather than per row, which on a 200,000-row file is most of the cost of the async plumbing.
 */
export function parseRows(path: string, dialect: Dialect, options: RowOptions = {}): AsyncGenerator<RowBatch> {
  // 64 KiB reads: csv-parse hands out rows once per chunk, and a reader waits for the first ones
  // (a 256 KiB first chunk is ~1,700 rows, 20-30 ms of parsing before the first row).
  return parseStream(createReadStream(path, { highWaterMark: 64 * 1024 }), dialect, options);
}

/** parseRows over any byte stream (the parse worker's warm-up parses text from memory). */
export async function* parseStream(source: Readable, dialect: Dialect, options: RowOptions = {}): AsyncGenerator<RowBatch> {
  const { signal, limit, clean = false } = options;
  const quote = QUOTES[dialect];
  const parser = parse({
    delimiter: SEPARATORS[dialect],
    quote,
    escape: quote,
    // O'Brien unquoted is ordinary in the exchange dialect: a quote inside a value is data.
    relax_quotes: true,
    relax_column_count: true,
    bom: true,
    // Every line ending ends a record, whatever the first line used: csv-parse otherwise keeps
    // the first one it meets, and a lone CR (old Mac) in a CRLF or LF file merged the rows after
    // it into one. Inside quotes they stay data. CRLF first, so it is one ending, not two.
    record_delimiter: RECORD_ENDS,
    // Empty lines come through as records (skipped by the reader) so that line numbers stay
    // exact without csv-parse's per-record info objects, which cost as much as a third of parsing.
    skip_empty_lines: false,
    ...(limit !== undefined ? { to: limit } : {}),
  });
  let failure: Error | undefined;
  const guard = new Utf8Guard();
  const settled = new Promise<void>((resolve) => {
    pipeline(source, guard, parser, (err) => { if (err) failure = err; resolve(); });
  });
  const onAbort = () => source.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  let endLine = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      if (failure) throw failure;
      if (parser.destroyed && !parser.readableEnded) {
        // Stopped by an error (its own, the UTF-8 guard's, or the source's): nothing more is read.
        const stopped = parser.errored ?? (await settled, failure);
        throw stopped ?? signal?.reason ?? new Error('the CSV parser stopped before the end of the file');
      }
      const batch: RowBatch = { fields: [], lines: [], clean };
      let fields: string[] | null;
      while ((fields = parser.read() as string[] | null) !== null) {
        const line = endLine + 1;
        // Every byte of a parsed record went through the guard first: no lone CR seen, none in it.
        endLine = line + (guard.loneCR ? embeddedNewlines(fields) : embeddedLinefeeds(fields));
        if (clean) for (let i = 0; i < fields.length; i++) fields[i] = cleanValue(fields[i]);
        batch.fields.push(fields);
        batch.lines.push(line);
      }
      if (batch.fields.length > 0) {
        yield batch;
        continue;
      }
      if (parser.readableEnded) return;
      if (!parser.destroyed) await nextEvent(parser);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    source.destroy();
  }
}

/** Resolves at the parser's next 'readable', 'end', 'close' or 'error', whichever comes first. */
function nextEvent(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const events = ['readable', 'end', 'close', 'error'] as const;
    const done = () => {
      for (const e of events) stream.off(e, done);
      resolve();
    };
    for (const e of events) stream.on(e, done);
  });
}

/** Line endings inside a record's values when the file has no lone CR: LFs (a CRLF holds one). */
function embeddedLinefeeds(fields: string[]): number {
  let n = 0;
  for (const f of fields) {
    for (let i = f.indexOf('\n'); i !== -1; i = f.indexOf('\n', i + 1)) n++;
  }
  return n;
}

/** Line endings inside a record's (quoted) values, each CRLF, LF or lone CR counted once, as RECORD_ENDS. */
export function embeddedNewlines(fields: string[]): number {
  let n = 0;
  for (const f of fields) {
    for (let i = f.indexOf('\n'); i !== -1; i = f.indexOf('\n', i + 1)) n++;
    for (let i = f.indexOf('\r'); i !== -1; i = f.indexOf('\r', i + 1)) if (f.charCodeAt(i + 1) !== 10) n++;
  }
  return n;
}

/** csv-parse's errors as file rejections, with the line the failing record starts on. */
export async function translateCsvError(err: unknown, path: string, dialect: Dialect): Promise<unknown> {
  if (err instanceof FileRejection || !(err instanceof CsvError)) return err;
  const records = (err as CsvError & { records?: number }).records ?? 0;
  // The failing record is the one after the last complete record: find the line it starts on.
  let line = 1;
  try {
    for await (const batch of parseRows(path, dialect, { limit: records })) {
      const last = batch.fields.length - 1;
      line = batch.lines[last] + 1 + embeddedNewlines(batch.fields[last]);
    }
  } catch { /* keep what was counted */ }
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    return rejectFile('FG_UNTERMINATED_QUOTE',
      `a quoted value in the row starting at line ${line} is never closed: the quote runs to the end of the file`, { line });
  }
  return rejectFile('FG_CSV', `the file cannot be read as CSV near line ${line}: ${err.message}`, { line, csvCode: err.code });
}
