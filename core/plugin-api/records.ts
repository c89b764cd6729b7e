/**
 * The streaming record reader contract. Implementation: core/records (csv-parse for the
 * exchange and drop-box CSV dialects, exceljs for XLSX workbooks).
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
  /** 1-based line number in the file (header = line 1; a workbook's row number). */
  line: number;
  /** Header name (as normalised by the options) → trimmed, NFC-normalised value ('' when absent). */
  values: Record<string, string>;
  /** Header name → 1-based column index. */
  columns: Record<string, number>;
  /**
   * Header name → the header cell as the file wrote it (trimmed, NFC): `manageremail` →
   * `Manager Email`, for reports that name a column as the customer wrote it. Shared by all
   * the records of a file, like `columns`. Absent on records not built by the reader.
   */
  headers?: Readonly<Record<string, string>>;
  /** Problems the reader found in this row (FG_FIELD_COUNT); handlers add their own to the report. */
  problems: RowProblem[];
}

export interface RecordReaderOptions {
  dialect: Dialect;
  /** Columns that must be present in the header (after normalisation). */
  required?: string[];
  /** How header names are compared; trimmed and lower-cased by default. */
  normalizeHeader?: (header: string) => string;
  /**
   * `csv` or `xlsx`. When absent: `xlsx` for a `.xlsx` file name in the drop-box dialect,
   * CSV otherwise (a workbook under a `.csv` name is rejected with FG_SPREADSHEET_AS_CSV).
   */
  format?: 'csv' | 'xlsx';
  /** The name the file was uploaded under, used to choose the format (the path on disk may differ). */
  fileName?: string;
}

/** Drop-box header matching: case, spaces and underscores are ignored (`Employee ID` = `employee_id`). */
export const looseHeader = (header: string): string => header.toLowerCase().replace(/[\s_]+/g, '');

export * from './fields';
