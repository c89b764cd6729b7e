import type ExcelJSModule from 'exceljs';
import { FileRejection, rejectFile } from '../plugin-api/outcome';
import type { RecordReaderOptions, SourceRecord } from '../plugin-api/records';
import { checkHeader, type Header } from './header';
import { toRecord } from './csv-reader';
import type { RowBatch } from './csv-rows';
import { firstSheetRows, type WorkbookReaderParts } from './xlsx-workbook';

/** One cell as text: what the user sees in the sheet, without formulas or formatting. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) {
    const iso = value.toISOString();
    // Dates typed into a cell come back as UTC midnight: the calendar date is what was meant.
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (typeof value === 'object') {
    const v = value as { richText?: Array<{ text: string }>; text?: unknown; result?: unknown; error?: unknown };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if (v.text !== undefined) return cellText(v.text);
    if ('result' in v) return cellText(v.result);
    if (v.error !== undefined) return '';
    return JSON.stringify(value); // a cell kind not known here: its content rather than [object Object]
  }
  return typeof value === 'bigint' ? String(value) : '';
}

/** Rows sent at once by xlsxRowBatches: a sandbox gets them in frames of this many (core/sandbox). */
const XLSX_BATCH = 512;

/** Streams the first worksheet of an XLSX workbook (exceljs's parsers, row by row: flat memory; xlsx-workbook.ts). */
export function readXlsx(path: string, options: RecordReaderOptions, signal?: AbortSignal): AsyncGenerator<SourceRecord> {
  return recordsOfSheet(xlsxRowBatches(path, signal), options, signal);
}

/**
 * The first worksheet's rows as text (cellText), in batches with their row numbers: what the
 * engine reads, in its process, for a sandboxed plugin too. An unreadable workbook is FG_XLSX.
 */
export async function* xlsxRowBatches(path: string, signal?: AbortSignal): AsyncGenerator<RowBatch> {
  // Loaded on first use: exceljs costs ~0.3 s and tens of MB, and most servers never see XLSX.
  // require(), synchronous: with import(), two first uses at once (two XLSX files, or two tests)
  // could get exceljs half-loaded ("Cannot read properties of undefined (reading 'sheets')", 1 run in 5).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the two lines above
  const ExcelJS = require('exceljs') as typeof ExcelJSModule;
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore',
  }) as unknown as WorkbookReaderParts;
  reader.sharedStrings = []; // a workbook without shared strings
  let batch: RowBatch = { fields: [], lines: [], clean: false };
  try {
    for await (const row of firstSheetRows(path, reader)) {
      signal?.throwIfAborted();
      // row.values is 1-based and sparse.
      const raw = row.values as unknown[];
      const fields: string[] = [];
      for (let i = 1; i < raw.length; i++) fields.push(cellText(raw[i]));
      batch.fields.push(fields);
      batch.lines.push(row.number);
      if (batch.fields.length >= XLSX_BATCH) {
        yield batch;
        batch = { fields: [], lines: [], clean: false };
      }
    }
  } catch (err) {
    if (err instanceof FileRejection || signal?.aborted) throw err;
    throw rejectFile('FG_XLSX', `the workbook cannot be read: ${(err as Error).message}`);
  }
  if (batch.fields.length > 0) yield batch;
}

/** A worksheet's records from its rows: the header row checked, blank rows skipped. */
export async function* recordsOfSheet(rows: AsyncIterable<RowBatch>, options: RecordReaderOptions, signal?: AbortSignal): AsyncGenerator<SourceRecord> {
  let header: Header | undefined;
  for await (const batch of rows) {
    for (let i = 0; i < batch.fields.length; i++) {
      signal?.throwIfAborted();
      const fields = batch.fields[i];
      if (fields.every((f) => f.trim() === '')) continue;
      if (!header) {
        header = checkHeader(fields, options);
        continue;
      }
      yield toRecord(fields, header, batch.lines[i]);
    }
  }
  if (!header) throw rejectFile('FG_EMPTY_FILE', 'the workbook is empty: its first sheet has no header row');
}
