import { createReadStream } from 'node:fs';
import { rejectFile } from '../plugin-api/outcome';
import type { RecordReaderOptions, RowProblem, SourceRecord } from '../plugin-api/records';
import { parseRows, translateCsvError, type RowSource } from './csv-rows';
import { checkHeader, cleanValue, type Header } from './header';

/**
 * Every this many milliseconds of a handler's work, the reader lets the event loop turn once
 * (SFTP sessions, timers, other files). Rows from the parse worker can arrive faster than a
 * handler takes them, and then nothing else would run until the whole file was read: another
 * session's `ls` took 3 s during a 200,000-row file.
 */
const TURN_EVERY_MS = 4;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Streams a CSV file in the exchange (`;`, `'`) or drop-box (`,`, `"`) dialect.
 * Memory stays flat: bytes go file → UTF-8 guard → csv-parse → one record at a time.
 */
export async function* readCsv(path: string, options: RecordReaderOptions, signal?: AbortSignal, rows: RowSource = parseRows,
  headerLine: (path: string) => Promise<string> = headerText): AsyncGenerator<SourceRecord> {
  let header: Header | undefined;
  let turned = performance.now();
  try {
    // Cleaned where they are parsed (csv-rows.ts: one test per value for both decoding and NFC), on this thread too.
    for await (const batch of rows(path, options.dialect, { signal, clean: true })) {
      const clean = batch.clean ? same : cleanValue;
      for (let i = 0; i < batch.fields.length; i++) {
        if ((i & 31) === 31 && performance.now() - turned >= TURN_EVERY_MS) {
          await turn();
          turned = performance.now();
        }
        if (signal?.aborted) signal.throwIfAborted();
        const fields = batch.fields[i];
        if (isBlank(fields)) continue;
        if (!header) {
          header = checkHeader(fields, options, await headerLine(path));
          continue;
        }
        yield toRecord(fields, header, batch.lines[i], clean);
      }
    }
  } catch (err) {
    throw await translateCsvError(err, path, options.dialect);
  }
  if (!header) throw rejectFile('FG_EMPTY_FILE', 'the file is empty: no header row and no data');
}

function isBlank(fields: string[]): boolean {
  for (const f of fields) if (f !== '' && f.trim() !== '') return false;
  return true;
}

const same = (value: string): string => value;

export function toRecord(fields: string[], header: Header, line: number, clean: (raw: string) => string = cleanValue): SourceRecord {
  const values = valuesBuilder(header)(fields, clean);
  const problems: RowProblem[] = [];
  const width = header.names.length;
  // A trailing separator (an empty extra field) is common and harmless.
  let extra = false;
  for (let i = width; i < fields.length && !extra; i++) extra = fields[i].trim() !== '';
  if (fields.length < width || extra) {
    problems.push({
      column: extra ? width + 1 : fields.length,
      code: 'FG_FIELD_COUNT',
      message: `the row has ${fields.length} fields, the header has ${width}`,
    });
  }
  return { line, values, columns: header.columns, headers: header.headers, problems };
}

type ValuesBuilder = (fields: readonly string[], clean: (raw: string) => string) => Record<string, string>;
const builders = new WeakMap<Header, ValuesBuilder>();

/**
 * A function, compiled once per header, that builds a record's values as one object literal:
 * the same shape for every row, instead of 20-odd keyed stores per row (the reader's main cost
 * on big files). Names are embedded with JSON.stringify, so any header text is a safe literal;
 * __proto__ is written as a computed key, which defines a property rather than a prototype.
 */
function valuesBuilder(header: Header): ValuesBuilder {
  let build = builders.get(header);
  if (!build) {
    const props: string[] = [];
    header.names.forEach((name, i) => {
      if (name === '') return;
      const key = name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
      props.push(`${key}: ${i} < f.length ? c(f[${i}]) : ''`);
    });
    // Measured: 0.11 s of CPU for 200,000 rows, 0.39 s with a loop of keyed stores (docs/fluxes.md).
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- code built from JSON.stringify'd names only (above)
    build = new Function('f', 'c', `return { ${props.join(', ')} };`) as ValuesBuilder;
    builders.set(header, build);
  }
  return build;
}

/**
 * The raw first line, to name the separator actually used. Read only once, for the header
 * (a sandbox gets it from the engine with the rows: core/sandbox/records-feeder.ts).
 */
export async function headerText(path: string): Promise<string> {
  const stream = createReadStream(path, { start: 0, end: 64 * 1024 - 1 });
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/).find((l) => l.trim() !== '') ?? '';
}
