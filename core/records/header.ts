import { rejectFile } from '../plugin-api/outcome';
import type { Dialect, RecordReaderOptions } from '../plugin-api/records';

export const SEPARATORS: Record<Dialect, string> = { exchange: ';', dropbox: ',' };
const SEPARATOR_NAMES: Record<string, string> = { ';': 'semicolon (;)', ',': 'comma (,)', '\t': 'tab', '|': 'pipe (|)' };

// Any UTF-16 unit above 0x7f, surrogates included: every non-ASCII character has one.
const NON_ASCII = /[\u0080-\uffff]/;
/** Runs for every field of every row: empty fields (a third of a typical sal row) return at once. */
export const cleanValue = (raw: string): string => {
  if (raw === '') return raw;
  const trimmed = raw.trim();
  // normalize() is the costly part: pure-ASCII values are already NFC.
  return NON_ASCII.test(trimmed) ? trimmed.normalize('NFC') : trimmed;
};

export const defaultHeader = (header: string): string => header.toLowerCase();

export interface Header {
  /** Normalised name per column index (0-based); '' for unnamed columns. */
  names: string[];
  /** Name → 1-based column. */
  columns: Record<string, number>;
  /** Name → the header cell as written (trimmed, NFC, without a BOM). */
  headers: Record<string, string>;
}

/**
 * Checks the header row: the separator, duplicate names, required columns.
 * `raw` are the header cells as parsed; `rawLine` is the header text, to spot another separator.
 */
export function checkHeader(raw: string[], options: RecordReaderOptions, rawLine?: string): Header {
  const normalize = options.normalizeHeader ?? defaultHeader;
  const written = raw.map((h) => cleanValue(h.replace(/^\uFEFF/, '')));
  const names = written.map(normalize);
  const required = options.required ?? [];
  const expected = SEPARATORS[options.dialect];

  if (rawLine !== undefined) {
    const missingSome = required.some((r) => !names.includes(r));
    if (names.length === 1 || missingSome) {
      const found = Object.keys(SEPARATOR_NAMES).find((s) => s !== expected && rawLine.split(s).length > Math.max(names.length, 1));
      if (found) {
        throw rejectFile('FG_SEPARATOR',
          `the header row is separated by ${SEPARATOR_NAMES[found]}, but ${options.dialect} files use ${SEPARATOR_NAMES[expected]}`,
          { found, expected, line: 1 });
      }
    }
  }

  const columns: Record<string, number> = {};
  const headers: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name === '') return;
    if (columns[name] !== undefined) {
      throw rejectFile('FG_DUP_COLUMN', `the column '${name}' appears twice in the header (columns ${columns[name]} and ${i + 1})`,
        { field: name, columns: [columns[name], i + 1], line: 1 });
    }
    columns[name] = i + 1;
    headers[name] = written[i]!;
  });

  const missing = required.filter((r) => columns[r] === undefined);
  if (missing.length > 0) {
    throw rejectFile('FG_MISSING_COLUMN',
      `required column${missing.length > 1 ? 's' : ''} missing from the header: ${missing.join(', ')}`,
      { missing, line: 1 });
  }
  return { names, columns, headers };
}
