import { rejectFile } from '../plugin-api/outcome';
import type { RecordReaderOptions, SourceRecord } from '../plugin-api/records';
import { headerText, readCsv } from './csv-reader';
import { parseRows, translateCsvError, type RowBatch } from './csv-rows';
import { parseRowsOnThread, startParseThread } from './csv-thread';
import { chooseFormat } from './format';
import { sniffFile } from './sniff';
import { readXlsx, recordsOfSheet, xlsxRowBatches } from './xlsx-reader';

export { firstInvalidUtf8 } from './utf8';
export { chooseFormat } from './format';
export type { RowBatch } from './csv-rows';

/**
 * Streams the records of an HR file. The whole file is rejected (FileRejection, thrown on
 * the first iteration or when the problem is met) for: an empty file, UTF-16, a spreadsheet
 * under a CSV name, invalid UTF-8 (with the byte offset), the wrong separator, duplicate or
 * missing columns, an unterminated quote. Row problems (FG_FIELD_COUNT) come with the record.
 * The reader's own iterator is handed out once the file is sniffed (no generator wrapping it:
 * each layer costs promises per record).
 */
export interface ReaderTuning {
  /**
   * CSV files of at least this many bytes are parsed on the parse worker thread (csv-thread.ts).
   * Absent: none (the engine passes its engine.parseThreadMinBytes).
   */
  parseThreadMinBytes?: number;
}

export function readRecords(path: string, options: RecordReaderOptions, signal?: AbortSignal, tuning: ReaderTuning = {}): AsyncIterableIterator<SourceRecord> {
  let inner: AsyncIterator<SourceRecord> | undefined;
  let opening: Promise<AsyncIterator<SourceRecord>> | undefined;
  return {
    [Symbol.asyncIterator]() { return this; },
    next() {
      if (inner) return inner.next();
      opening ??= openReader(path, options, signal, tuning).then((it) => (inner = it));
      return opening.then((it) => it.next());
    },
    async return(value?: unknown) {
      if (inner?.return) await inner.return();
      return { done: true as const, value: value as SourceRecord };
    },
  };
}

async function openReader(path: string, options: RecordReaderOptions, signal: AbortSignal | undefined, tuning: ReaderTuning): Promise<AsyncIterator<SourceRecord>> {
  const { format, size } = await checkedFormat(path, options);
  if (format === 'xlsx') return readXlsx(path, options, signal);
  const threshold = tuning.parseThreadMinBytes ?? Infinity;
  const onThread = size >= threshold;
  // A server that reads small CSV files now gets big ones later: have the thread ready.
  if (!onThread && Number.isFinite(threshold)) startParseThread();
  return readCsv(path, options, signal, onThread ? parseRowsOnThread : parseRows);
}

/** The reader a file takes (csv or xlsx), once its first bytes say it can be read so: the file rejections otherwise. */
async function checkedFormat(path: string, options: RecordReaderOptions): Promise<{ format: 'csv' | 'xlsx'; size: number }> {
  const format = chooseFormat(path, options);
  const sniffed = await sniffFile(path);
  if (sniffed.kind === 'empty') throw rejectFile('FG_EMPTY_FILE', 'the file is empty: no header row and no data');
  if (format === 'xlsx') {
    if (sniffed.kind !== 'zip') throw rejectFile('FG_XLSX', 'the file has an .xlsx name but is not an XLSX workbook');
    return { format, size: 0 };
  }
  switch (sniffed.kind) {
    case 'zip':
    case 'ole': {
      const what = sniffed.kind === 'zip' ? 'an Excel workbook (XLSX) or another ZIP archive' : 'a legacy Excel workbook (XLS)';
      const hint = options.dialect === 'dropbox' ? 'export it as CSV (UTF-8) or upload it with an .xlsx name' : 'export it as CSV (UTF-8, separator ;)';
      throw rejectFile('FG_SPREADSHEET_AS_CSV', `the file is ${what}, not a CSV text file: ${hint}`, { detected: sniffed.kind });
    }
    case 'utf16':
      throw rejectFile('FG_UTF16', `the file is encoded in UTF-16 (${sniffed.reason}), not UTF-8: export it as UTF-8`);
    case 'nul':
      throw rejectFile('FG_ENCODING', `the file contains a NUL byte at byte offset ${sniffed.offset}: it is not a UTF-8 text file`, { offset: sniffed.offset });
    default:
      return { format, size: sniffed.size };
  }
}

/** What a reader needs to know before the rows: the format, and a CSV file's raw header line (FG_SEPARATOR). */
export interface RowsOpening { format: 'csv' | 'xlsx'; headerLine?: string }

/**
 * A file's raw rows as the engine reads them for a reader in another process (a sandboxed
 * plugin, core/sandbox): sniffed, parsed, UTF-8 checked and CSV values cleaned here, with the
 * same file rejections as readRecords; the header and the records are built from them there
 * (recordsFromRows), where the options' normalizeHeader is.
 */
export async function openRows(path: string, options: RecordReaderOptions, signal?: AbortSignal): Promise<{ opening: RowsOpening; rows: AsyncGenerator<RowBatch> }> {
  const { format } = await checkedFormat(path, options);
  if (format === 'xlsx') return { opening: { format }, rows: xlsxRowBatches(path, signal) };
  return { opening: { format, headerLine: await headerText(path) }, rows: csvRowBatches(path, options, signal) };
}

async function* csvRowBatches(path: string, options: RecordReaderOptions, signal?: AbortSignal): AsyncGenerator<RowBatch> {
  try {
    yield* parseRows(path, options.dialect, { signal, clean: true });
  } catch (err) {
    throw await translateCsvError(err, path, options.dialect);
  }
}

/** The records of rows from openRows (in another process): the same records, header checks and errors as readRecords. */
export function recordsFromRows(opening: RowsOpening, rows: AsyncIterable<RowBatch>, options: RecordReaderOptions): AsyncGenerator<SourceRecord> {
  if (opening.format === 'xlsx') return recordsOfSheet(rows, options);
  const headerLine = opening.headerLine ?? '';
  return readCsv('', options, undefined, () => rows as AsyncGenerator<RowBatch>, () => Promise.resolve(headerLine));
}
