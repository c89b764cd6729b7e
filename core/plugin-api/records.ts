/**
 * The streaming record reader contract. Implementation: ./record-reader.ts (owned by the
 * plugins work): csv-parse for the exchange and drop-box CSV dialects, exceljs for XLSX.
 * File-level problems are thrown as FileRejection; row-level ones come with the record.
 */
export type Dialect = 'exchange' | 'dropbox';

export interface RowProblem {
  column?: number;
  field?: string;
  code: string;
  message: string;
}

export interface SourceRecord {
  /** 1-based line number in the file (header = line 1). */
  line: number;
  /** Header name (as normalised by the options) → trimmed, NFC-normalised value. */
  values: Record<string, string>;
  /** Header name → 1-based column index. */
  columns: Record<string, number>;
  problems: RowProblem[];
}

export interface RecordReaderOptions {
  dialect: Dialect;
  /** Columns that must be present in the header (after normalisation). */
  required?: string[];
  /** How header names are compared; lower-case by default. */
  normalizeHeader?: (header: string) => string;
}
