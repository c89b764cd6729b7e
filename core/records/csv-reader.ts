import { createReadStream } from 'node:fs';
import { parse, CsvError } from 'csv-parse';
import { pipeline } from 'node:stream';
import { FileRejection, rejectFile } from '../plugin-api/outcome';
import type { Dialect, RecordReaderOptions, RowProblem, SourceRecord } from '../plugin-api/records';
import { checkHeader, cleanValue, SEPARATORS, type Header } from './header';
import { Utf8Guard } from './utf8';

const QUOTES = { exchange: "'", dropbox: '"' } as const;

interface RawRow { fields: string[]; line: number }

/**
 * The raw rows of a CSV file with the line each starts on (csv-parse counts a CRLF inside a
 * quoted value as two lines, so lines are counted here). `limit`: stop after that many records.
 * Rows come in batches (what the parser has ready): one promise per batch rather than per row,
 * which on a 200,000-row file is most of the cost of the async plumbing.
 */
async function* parseRows(path: string, dialect: Dialect, signal?: AbortSignal, limit?: number): AsyncGenerator<RawRow[]> {
  const quote = QUOTES[dialect];
  const source = createReadStream(path, { highWaterMark: 256 * 1024 });
  const parser = parse({
    delimiter: SEPARATORS[dialect],
    quote,
    escape: quote,
    // O'Brien unquoted is ordinary in the exchange dialect: a quote inside a value is data.
    relax_quotes: true,
    relax_column_count: true,
    bom: true,
    // Empty lines come through as records (skipped below) so that line numbers stay exact
    // without csv-parse's per-record info objects, which cost as much as a third of parsing.
    skip_empty_lines: false,
    ...(limit !== undefined ? { to: limit } : {}),
  });
  let failure: unknown;
  const settled = new Promise<void>((resolve) => {
    pipeline(source, new Utf8Guard(), parser, (err) => { if (err) failure = err; resolve(); });
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
      const batch: RawRow[] = [];
      let fields: string[] | null;
      while ((fields = parser.read() as string[] | null) !== null) {
        const line = endLine + 1;
        endLine = line + embeddedNewlines(fields);
        batch.push({ fields, line });
      }
      if (batch.length > 0) {
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

/**
 * Streams a CSV file in the exchange (`;`, `'`) or drop-box (`,`, `"`) dialect.
 * Memory stays flat: bytes go file → UTF-8 guard → csv-parse → one record at a time.
 */
export async function* readCsv(path: string, options: RecordReaderOptions, signal?: AbortSignal): AsyncGenerator<SourceRecord> {
  let header: Header | undefined;
  try {
    for await (const batch of parseRows(path, options.dialect, signal)) {
      for (const { fields, line } of batch) {
        if (signal?.aborted) signal.throwIfAborted();
        if (isBlank(fields)) continue;
        if (!header) {
          header = checkHeader(fields, options, await headerText(path));
          continue;
        }
        yield toRecord(fields, header, line);
      }
    }
  } catch (err) {
    throw await translate(err, path, options.dialect);
  }
  if (!header) throw rejectFile('FG_EMPTY_FILE', 'the file is empty: no header row and no data');
}

function isBlank(fields: string[]): boolean {
  for (const f of fields) if (f !== '' && f.trim() !== '') return false;
  return true;
}

function embeddedNewlines(fields: string[]): number {
  let n = 0;
  for (const f of fields) {
    for (let i = f.indexOf('\n'); i !== -1; i = f.indexOf('\n', i + 1)) n++;
  }
  return n;
}

export function toRecord(fields: string[], header: Header, line: number): SourceRecord {
  const values = valuesBuilder(header)(fields, cleanValue);
  const problems: RowProblem[] = [];
  const width = header.names.length;
  // A trailing separator (an empty extra field) is common and harmless.
  let extra = false;
  for (let i = width; i < fields.length && !extra; i++) extra = fields[i]!.trim() !== '';
  if (fields.length < width || extra) {
    problems.push({
      column: extra ? width + 1 : fields.length,
      code: 'FG_FIELD_COUNT',
      message: `the row has ${fields.length} fields, the header has ${width}`,
    });
  }
  return { line, values, columns: header.columns, problems };
}

type ValuesBuilder = (fields: readonly string[], clean: (raw: string) => string) => Record<string, string>;
const builders = new WeakMap<Header, ValuesBuilder>();

/**
 * A function, compiled once per header, that builds a record's values as one object literal:
 * the same shape for every row, instead of 20-odd keyed stores per row (the reader's main cost
 * on big files). Names are embedded with JSON.stringify, so any header text is a safe literal;
 * __proto__ is written as a computed key, which defines a property rather than a prototype.
 */
function valuesBuilder(header: Header): ValuesBuilder {
  let build = builders.get(header);
  if (!build) {
    const props: string[] = [];
    header.names.forEach((name, i) => {
      if (name === '') return;
      const key = name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
      props.push(`${key}: ${i} < f.length ? c(f[${i}]) : ''`);
    });
    build = new Function('f', 'c', `return { ${props.join(', ')} };`) as ValuesBuilder;
    builders.set(header, build);
  }
  return build;
}

/** The raw first line, to name the separator actually used. Read only once, for the header. */
async function headerText(path: string): Promise<string> {
  const stream = createReadStream(path, { start: 0, end: 64 * 1024 - 1 });
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
}

async function translate(err: unknown, path: string, dialect: Dialect): Promise<unknown> {
  if (err instanceof FileRejection || !(err instanceof CsvError)) return err;
  const records = (err as CsvError & { records?: number }).records ?? 0;
  // The failing record is the one after the last complete record: find the line it starts on.
  let line = 1;
  try {
    for await (const batch of parseRows(path, dialect, undefined, records)) {
      for (const row of batch) line = row.line + 1 + embeddedNewlines(row.fields);
    }
  } catch { /* keep what was counted */ }
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    return rejectFile('FG_UNTERMINATED_QUOTE',
      `a quoted value in the row starting at line ${line} is never closed: the quote runs to the end of the file`, { line });
  }
  return rejectFile('FG_CSV', `the file cannot be read as CSV near line ${line}: ${err.message}`, { line, csvCode: err.code });
}
