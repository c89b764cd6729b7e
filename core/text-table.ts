/**
 * Left-aligned columns separated by two spaces, the last one not padded. Widths are found with
 * a loop: `Math.max(...cells)` overflows the stack past ~100,000 rows (a big directory).
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) if ((row[i] ?? '').length > (widths[i] ?? 0)) widths[i] = row[i].length;
  }
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A value as one cell of text: scalars as they print, objects and arrays as JSON, nothing as ''. */
export function printable(value: unknown): string {
  switch (typeof value) {
    case 'string': return value;
    case 'number': case 'boolean': case 'bigint': return String(value);
    case 'object': return value === null ? '' : JSON.stringify(value);
    default: return ''; // undefined; a function or symbol has no text form
  }
}
