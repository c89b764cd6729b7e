import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** A processing report (core/workflow/report-csv.ts) read back for the console: its summary lines, then its messages. */
export interface ReportTable {
  summary: Array<[string, string]>;
  columns: string[];
  rows: string[][];
  /** Rows past the shown ones (a big file's report is cut for the page; the download has it all). */
  notShown: number;
}

const MAX_BYTES = 2 * 1024 * 1024;
const MAX_ROWS = 1000;

/** Reads a report file; undefined when it is not a report this server writes (or is too big to show). */
export function readReportTable(path: string): ReportTable | undefined {
  const fd = openSync(path, 'r');
  let text: string;
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_BYTES) return undefined;
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    text = buf.toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
  let records: string[][];
  try {
    const parsed: string[][] = parse(text, { delimiter: ';', relax_column_count: true, skip_empty_lines: false });
    records = parsed;
  } catch {
    return undefined;
  }
  const blank = records.findIndex((r) => r.length === 0 || r.every((c) => c === ''));
  if (blank < 0) return undefined;
  const summary = records.slice(0, blank).map((r) => [r[0] ?? '', r.slice(1).join(';')] as [string, string]);
  const [columns, ...rows] = records.slice(blank + 1).filter((r) => !r.every((c) => c === ''));
  if (!columns) return { summary, columns: [], rows: [], notShown: 0 };
  // The report neutralises formula triggers with a leading quote for spreadsheets; a page needs not.
  const shown = rows.slice(0, MAX_ROWS).map((r) => r.map((c) => (/^'[=+\-@\t\r]/.test(c) ? c.slice(1) : c)));
  return { summary, columns, rows: shown, notShown: Math.max(0, rows.length - MAX_ROWS) };
}
