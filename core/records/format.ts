import { extname } from 'node:path';
import type { RecordReaderOptions } from '../plugin-api/records';

/** The reader a file takes: XLSX for a drop-box file with an .xlsx name (or as `options.format` says), CSV otherwise. */
export function chooseFormat(path: string, options: RecordReaderOptions): 'csv' | 'xlsx' {
  if (options.format) return options.format;
  const ext = extname(options.fileName ?? path).toLowerCase();
  return options.dialect === 'dropbox' && ext === '.xlsx' ? 'xlsx' : 'csv';
}
