/**
 * A CSV parser for the common shape of HR files, about four times faster than csv-parse
 * (docs/benchmarks.md, 2026-12-07 perf-sal): it works on decoded text with one character test
 * per byte, where csv-parse works byte by byte on Buffers with every option checked per byte.
 * csv-parse stays the reference: this parser gives exactly its records for the options
 * csv-rows.ts uses (relax_quotes, relax_column_count, bom, skip_empty_lines false, CRLF/LF/CR
 * record ends), and stops with `QuickCsvUnsupported` where a file leaves that common shape
 * (text after a closing quote, a quote never closed, a record longer than MAX_PENDING):
 * csv-rows.ts then parses the file again with csv-parse, which defines those cases (its
 * errors included). test/unit/quick-csv.test.ts compares the two on random inputs.
 */

/** The file is not in the shape this parser handles: parse it with csv-parse. */
export class QuickCsvUnsupported extends Error {}

const CR = 13;
const LF = 10;
/** An incomplete record kept between chunks longer than this (a huge quoted value) goes to csv-parse: each chunk rescans it. */
const MAX_PENDING = 1024 * 1024;

export interface QuickRecords {
  fields: string[][];
  /** Per record: whether a quoted value holds a line end (csv-rows.ts counts the lines then). */
  multiline: boolean[];
}

export class QuickCsv {
  /** The start of a record not complete yet, from the previous chunk. */
  private pending = '';
  private started = false;
  private readonly sep: number;
  private readonly quote: number;
  private readonly quoteChar: string;

  constructor(separator: string, quote: string) {
    this.sep = separator.charCodeAt(0);
    this.quote = quote.charCodeAt(0);
    this.quoteChar = quote;
  }

  /**
   * The complete records of `text` (the next decoded chunk, after what came before), appended
   * to `out`; an incomplete last record is kept for the next call. `final`: no text follows.
   */
  push(text: string, final: boolean, out: QuickRecords): void {
    let s = this.pending === '' ? text : this.pending + text;
    if (!this.started && s.length > 0) {
      this.started = true;
      // csv-parse's `bom: true` (a UTF-16 BOM never gets here: the sniffer rejects such files).
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    const n = s.length;
    const { sep, quote, quoteChar } = this;
    let p = 0;
    records: while (p < n) {
      const start = p;
      const fields: string[] = [];
      let multiline = false;
      for (;;) {
        let value: string;
        if (s.charCodeAt(p) === quote) {
          // Quoted: up to a quote followed by a separator or a line end; a doubled quote is one quote.
          value = '';
          let from = p + 1;
          for (;;) {
            const q = s.indexOf(quoteChar, from);
            if (q === -1 || (q + 1 === n && !final)) {
              if (final) throw new QuickCsvUnsupported('a quote is never closed');
              p = start;
              break records; // incomplete
            }
            const next = q + 1 < n ? s.charCodeAt(q + 1) : -1;
            if (next === quote) {
              value += s.slice(from, q + 1);
              from = q + 2;
              continue;
            }
            if (next !== -1 && next !== sep && next !== CR && next !== LF) throw new QuickCsvUnsupported('text follows a closing quote');
            value += s.slice(from, q);
            p = q + 1;
            break;
          }
          if (!multiline && (value.includes('\n') || value.includes('\r'))) multiline = true;
        } else {
          // Unquoted: a quote in it is data (relax_quotes).
          let i = p;
          while (i < n) {
            const c = s.charCodeAt(i);
            if (c === sep || c === LF || c === CR) break;
            i++;
          }
          if (i === n && !final) {
            p = start;
            break records;
          }
          value = s.slice(p, i);
          p = i;
        }
        fields.push(value);
        if (p === n) {
          if (!final) {
            p = start;
            break records;
          }
          break; // the last record, without a line end
        }
        const c = s.charCodeAt(p);
        if (c === sep) {
          p++;
          continue;
        }
        // A line end: CRLF, LF or a lone CR.
        if (c === CR) {
          if (p + 1 === n && !final) { // CRLF split between chunks?
            p = start;
            break records;
          }
          p += s.charCodeAt(p + 1) === LF ? 2 : 1;
        } else p++;
        break;
      }
      out.fields.push(fields);
      out.multiline.push(multiline);
    }
    // `p` is the start of the incomplete record, or the end.
    this.pending = p < n ? s.slice(p) : '';
    if (this.pending.length > MAX_PENDING) throw new QuickCsvUnsupported('a record is longer than this parser keeps');
  }
}
