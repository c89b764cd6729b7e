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
 */
async function* parseRows(path: string, dialect: Dialect, signal?: AbortSignal, limit?: number): AsyncGenerator<RawRow> {
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
  pipeline(source, new Utf8Guard(), parser, (err) => { if (err) failure = err; });
  const onAbort = () => source.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', onAbort, { once: true });
  let endLine = 0;
  try {
    for await (const fields of parser as AsyncIterable<string[]>) {
      signal?.throwIfAborted();
      const line = endLine + 1;
      endLine = line + embeddedNewlines(fields);
      yield { fields, line };
    }
  } catch (err) {
    throw failure ?? err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    source.destroy();
  }
  if (failure) throw failure;
}

/**
 * Streams a CSV file in the exchange (`;`, `'`) or drop-box (`,`, `"`) dialect.
 * Memory stays flat: bytes go file → UTF-8 guard → csv-parse → one record at a time.
 */
export async function* readCsv(path: string, options: RecordReaderOptions, signal?: AbortSignal): AsyncGenerator<SourceRecord> {
  let header: Header | undefined;
  try {
    for await (const { fields, line } of parseRows(path, options.dialect, signal)) {
      if (fields.every((f) => f.trim() === '')) continue;
      if (!header) {
        header = checkHeader(fields, options, await headerText(path));
        continue;
      }
      yield toRecord(fields, header, line);
    }
  } catch (err) {
    throw await translate(err, path, options.dialect);
  }
  if (!header) throw rejectFile('FG_EMPTY_FILE', 'the file is empty: no header row and no data');
}

function embeddedNewlines(fields: string[]): number {
  let n = 0;
  for (const f of fields) {
    for (let i = f.indexOf('\n'); i !== -1; i = f.indexOf('\n', i + 1)) n++;
  }
  return n;
}

export function toRecord(fields: string[], header: Header, line: number): SourceRecord {
  const values: Record<string, string> = {};
  const problems: RowProblem[] = [];
  const width = header.names.length;
  for (let i = 0; i < width; i++) {
    const name = header.names[i]!;
    if (name !== '') values[name] = i < fields.length ? cleanValue(fields[i]!) : '';
  }
  // A trailing separator (an empty extra field) is common and harmless.
  const extra = fields.length > width && fields.slice(width).some((f) => f.trim() !== '');
  if (fields.length < width || extra) {
    problems.push({
      column: extra ? width + 1 : fields.length,
      code: 'FG_FIELD_COUNT',
      message: `the row has ${fields.length} fields, the header has ${width}`,
    });
  }
  return { line, values, columns: header.columns, problems };
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
    for await (const row of parseRows(path, dialect, undefined, records)) line = row.line + 1 + embeddedNewlines(row.fields);
  } catch { /* keep what was counted */ }
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    return rejectFile('FG_UNTERMINATED_QUOTE',
      `a quoted value in the row starting at line ${line} is never closed: the quote runs to the end of the file`, { line });
  }
  return rejectFile('FG_CSV', `the file cannot be read as CSV near line ${line}: ${err.message}`, { line, csvCode: err.code });
}
