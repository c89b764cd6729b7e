import { extname } from 'node:path';
import { rejectFile } from '../plugin-api/outcome';
import type { RecordReaderOptions, SourceRecord } from '../plugin-api/records';
import { readCsv } from './csv-reader';
import { parseRows } from './csv-rows';
import { parseRowsOnThread, startParseThread } from './csv-thread';
import { sniffFile } from './sniff';
import { readXlsx } from './xlsx-reader';

export { firstInvalidUtf8 } from './utf8';

function chooseFormat(path: string, options: RecordReaderOptions): 'csv' | 'xlsx' {
  if (options.format) return options.format;
  const ext = extname(options.fileName ?? path).toLowerCase();
  return options.dialect === 'dropbox' && ext === '.xlsx' ? 'xlsx' : 'csv';
}

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
  const format = chooseFormat(path, options);
  const sniffed = await sniffFile(path);
  if (sniffed.kind === 'empty') throw rejectFile('FG_EMPTY_FILE', 'the file is empty: no header row and no data');
  if (format === 'xlsx') {
    if (sniffed.kind !== 'zip') throw rejectFile('FG_XLSX', 'the file has an .xlsx name but is not an XLSX workbook');
    return readXlsx(path, options, signal);
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
    default: {
      const threshold = tuning.parseThreadMinBytes ?? Infinity;
      const onThread = sniffed.size >= threshold;
      // A server that reads small CSV files now gets big ones later: have the thread ready.
      if (!onThread && Number.isFinite(threshold)) startParseThread();
      return readCsv(path, options, signal, onThread ? parseRowsOnThread : parseRows);
    }
  }
}
