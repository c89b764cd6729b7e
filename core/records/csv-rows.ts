import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { FileRejection, rejectFile } from '../plugin-api/outcome';
import type { Dialect } from '../plugin-api/records';
import { cleanValue, SEPARATORS } from './header';
import { QuickCsv, QuickCsvUnsupported, type QuickRecords } from './quick-csv';
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
  // 64 KiB reads: rows are handed out once per chunk, and a reader waits for the first ones
  // (a 256 KiB first chunk is ~1,700 rows, 20-30 ms of parsing before the first row).
  return parseStream(() => createReadStream(path, { highWaterMark: 64 * 1024 }), dialect, options);
}

/**
 * parseRows over any byte stream (the parse worker's warm-up parses text from memory); `open`
 * gives the bytes from the start, again if asked. QuickCsv parses the file; where the file
 * leaves the shape it handles, csv-parse parses it again from the start, and its rows follow
 * on from the last QuickCsv gave (the same rows: csv-parse is what QuickCsv reproduces).
 * `limit` (counting records for an error's line) is csv-parse's alone.
 */
export async function* parseStream(open: () => Readable, dialect: Dialect, options: RowOptions = {}): AsyncGenerator<RowBatch> {
  if (options.limit !== undefined) {
    yield* csvParseRows(open(), dialect, options, 0);
    return;
  }
  const given = { records: 0 };
  try {
    yield* quickRows(open(), dialect, options, given);
    return;
  } catch (err) {
    if (!(err instanceof QuickCsvUnsupported)) throw err;
  }
  yield* csvParseRows(open(), dialect, options, given.records);
}

/** The rows by QuickCsv; `given.records` counts those yielded, for csv-parse to go on from there. */
async function* quickRows(source: Readable, dialect: Dialect, { signal, clean = false }: RowOptions, given: { records: number }): AsyncGenerator<RowBatch> {
  const guard = new Utf8Guard();
  // Errors (the guard's, the source's, an abort) reach the loop below through the guard's iterator.
  pipeline(source, guard, () => undefined);
  const onAbort = () => source.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  const parser = new QuickCsv(SEPARATORS[dialect], QUOTES[dialect]);
  const decode = new Latin1Values(clean);
  let started = false;
  let endLine = 0;
  const emit = (records: QuickRecords): RowBatch => {
    const batch: RowBatch = { fields: records.fields, lines: [], clean };
    for (let r = 0; r < records.fields.length; r++) {
      const fields = records.fields[r];
      const line = endLine + 1;
      // Only a quoted value holds a line end; counted as csv-parse's record ends are (RECORD_ENDS).
      endLine = records.multiline[r] ? line + embeddedNewlines(fields) : line;
      for (let i = 0; i < fields.length; i++) fields[i] = decode.value(fields[i]);
      batch.lines.push(line);
    }
    given.records += records.fields.length;
    return batch;
  };
  try {
    for await (const chunk of guard) {
      signal?.throwIfAborted();
      const records: QuickRecords = { fields: [], multiline: [] };
      // One character per byte (see fromLatin1); a UTF-8 BOM is left out here, as csv-parse's `bom` does.
      let bytes = chunk as Buffer;
      if (!started && bytes.length > 0) {
        started = true;
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      }
      parser.push(bytes.toString('latin1'), false, records);
      if (records.fields.length > 0) yield emit(records);
    }
    signal?.throwIfAborted();
    const records: QuickRecords = { fields: [], multiline: [] };
    parser.push('', true, records);
    if (records.fields.length > 0) yield emit(records);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    source.destroy();
  }
}

/**
 * QuickCsv parses each chunk decoded as Latin-1, one character per byte (the record's separators,
 * quotes and line ends are ASCII, and no byte of a multi-byte UTF-8 character is), so that its
 * values are one-byte strings: decoded as UTF-8, a chunk with one character past U+00FF (`ğ`)
 * became a two-byte string, and so did every value sliced from it. Two-byte strings cost twice
 * the bytes wherever they are copied: V8's serialization to the parse worker's main thread or
 * through a sandbox's batches (59 MB instead of 30 for a 200,000-row sal file), SQLite's UTF-8
 * conversion (docs/benchmarks.md, 2026-12-07 sandbox-sal2). A value with a byte from 0x80 up is
 * decoded as UTF-8 here (the Utf8Guard has checked the bytes, and cut chunks between characters).
 */
const HIGH_BYTE = /[\x80-\xff]/;
/** Decoded values kept for the next rows (names and cities repeat): at most this many, then forgotten. */
const DECODED_KEPT = 4096;

/** QuickCsv's values of one file decoded (and, `clean`, trimmed and NFC-normalised as cleanValue does). */
class Latin1Values {
  /** Non-ASCII values as parsed → as given: decoding and NFC are the costly part, the Map lookup is not. */
  private readonly decoded = new Map<string, string>();

  constructor(private readonly clean: boolean) {}

  value(raw: string): string {
    if (raw === '' || !HIGH_BYTE.test(raw)) return this.clean ? raw.trim() : raw; // ASCII: already NFC
    let value = this.decoded.get(raw);
    if (value === undefined) {
      // Decoded before it is trimmed: `à` ends with the byte 0xA0, which trim() takes for a space.
      value = Buffer.from(raw, 'latin1').toString('utf8');
      if (this.clean) value = cleanValue(value);
      if (this.decoded.size >= DECODED_KEPT) this.decoded.clear();
      this.decoded.set(raw, value);
    }
    return value;
  }
}

/** The rows by csv-parse, the first `skip` records left out (QuickCsv gave them). */
async function* csvParseRows(source: Readable, dialect: Dialect, options: RowOptions, skip: number): AsyncGenerator<RowBatch> {
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
  let toSkip = skip;
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
        if (toSkip > 0) {
          toSkip--;
          continue;
        }
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
