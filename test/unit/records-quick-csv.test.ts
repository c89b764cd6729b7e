import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { serialize } from 'node:v8';
import { parse } from 'csv-parse/sync';
import { parseStream } from '../../core/records/csv-rows';
import { QuickCsv, QuickCsvUnsupported, type QuickRecords } from '../../core/records/quick-csv';
import type { Dialect } from '../../core/plugin-api/records';

// QuickCsv must give csv-parse's records exactly, with the options csv-rows.ts gives csv-parse,
// or say it cannot (QuickCsvUnsupported): random inputs, cut into random chunks, both ways.

const DIALECTS = { exchange: { sep: ';', quote: "'" }, dropbox: { sep: ',', quote: '"' } } as const;
const csvParseOptions = (dialect: Dialect) => ({
  delimiter: DIALECTS[dialect].sep, quote: DIALECTS[dialect].quote, escape: DIALECTS[dialect].quote,
  relax_quotes: true, relax_column_count: true, bom: true, record_delimiter: ['\r\n', '\n', '\r'], skip_empty_lines: false,
});

/** A small deterministic generator (xorshift), so that a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return ((x >>> 0) % 1_000_000) / 1_000_000;
  };
}

/** Text built of the characters that matter to the parsers: separators, both quotes, every line end, non-ASCII, a BOM first sometimes. */
function randomCsv(rnd: () => number, dialect: Dialect): string {
  const { sep, quote } = DIALECTS[dialect];
  const pieces = ['a', 'bc', 'É', '€', '𝄞', ' ', sep, sep, quote, quote + quote, '\r\n', '\n', '\r', ';', ',', '"', "'"];
  // Mostly well-formed values (quoted ones included), so that QuickCsv handles a good share whole.
  const value = () => {
    const r = rnd();
    if (r < 0.3) return '';
    if (r < 0.6) return 'x' + pieces[Math.floor(rnd() * 6)];
    if (r < 0.8) return quote + ['a', sep, quote + quote, '\r\n', '\n', 'é'].slice(0, 1 + Math.floor(rnd() * 6)).join('') + quote;
    return Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('');
  };
  let text = rnd() < 0.1 ? '\uFEFF' : '';
  const rows = Math.floor(rnd() * 6);
  for (let r = 0; r < rows; r++) {
    text += Array.from({ length: 1 + Math.floor(rnd() * 4) }, value).join(sep);
    if (r < rows - 1 || rnd() < 0.7) text += ['\r\n', '\n', '\r'][Math.floor(rnd() * 3)];
  }
  return text;
}

function chunksOf(rnd: () => number, bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(rnd() * 8);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function quick(text: string, dialect: Dialect, rnd: () => number): string[][] | 'unsupported' {
  const parser = new QuickCsv(DIALECTS[dialect].sep, DIALECTS[dialect].quote);
  const out: QuickRecords = { fields: [], multiline: [] };
  try {
    // Cut between UTF-16 units of whole characters, as decoded chunks are.
    const chars = [...text];
    for (let at = 0; at < chars.length;) {
      const size = 1 + Math.floor(rnd() * 6);
      parser.push(chars.slice(at, at + size).join(''), false, out);
      at += size;
    }
    parser.push('', true, out);
  } catch (err) {
    if (err instanceof QuickCsvUnsupported) return 'unsupported';
    throw err;
  }
  return out.fields;
}

test('QuickCsv gives csv-parse\'s records, or leaves the file to csv-parse', () => {
  let whole = 0;
  const runs = 4000;
  for (let seed = 1; seed <= runs; seed++) {
    const rnd = random(seed);
    const dialect: Dialect = seed % 2 ? 'exchange' : 'dropbox';
    const text = randomCsv(rnd, dialect);
    let expected: string[][] | Error;
    try {
      expected = parse(Buffer.from(text), csvParseOptions(dialect));
    } catch (err) {
      expected = err as Error;
    }
    const got = quick(text, dialect, rnd);
    if (got === 'unsupported') continue;
    whole++;
    assert.ok(!(expected instanceof Error), `seed ${seed}: csv-parse failed (${String(expected)}) where QuickCsv gave records, on ${JSON.stringify(text)}`);
    assert.deepEqual(got, expected, `seed ${seed}, ${dialect}: ${JSON.stringify(text)}`);
  }
  // Most random files are in the shape QuickCsv handles: the comparison above is not vacuous.
  assert.ok(whole > runs / 2, `QuickCsv handled only ${whole} of ${runs} files`);
});

async function rowsOf(bytes: Buffer, dialect: Dialect, chunks: Buffer[], viaCsvParse: boolean): Promise<{ fields: string[][]; lines: number[] } | { error: string }> {
  const fields: string[][] = [];
  const lines: number[] = [];
  try {
    // A limit makes parseStream use csv-parse alone (its path before QuickCsv).
    for await (const batch of parseStream(() => Readable.from(chunks), dialect, viaCsvParse ? { limit: Number.MAX_SAFE_INTEGER } : {})) {
      fields.push(...batch.fields);
      lines.push(...batch.lines);
    }
  } catch (err) {
    return { error: `${(err as { code?: string }).code ?? ''} ${(err as Error).message}` };
  }
  return { fields, lines };
}

test('parseStream gives the rows, lines and errors csv-parse alone gave, whether QuickCsv or csv-parse parses', async () => {
  for (let seed = 1; seed <= 1500; seed++) {
    const rnd = random(seed * 7919);
    const dialect: Dialect = seed % 2 ? 'exchange' : 'dropbox';
    const bytes = Buffer.from(randomCsv(rnd, dialect));
    // Cut anywhere, inside a multi-byte character too (the UTF-8 guard carries it over).
    const chunks = chunksOf(rnd, bytes);
    const expected = await rowsOf(bytes, dialect, chunks, true);
    const got = await rowsOf(bytes, dialect, chunks, false);
    assert.deepEqual(got, expected, `seed ${seed}, ${dialect}: ${JSON.stringify(bytes.toString())}`);
  }
});

test('a file QuickCsv cannot finish goes on with csv-parse after the rows already given, and csv-parse\'s error comes last', async () => {
  // Row 3 has text after a closing quote (csv-parse keeps it its own way); row 5 opens a quote never closed.
  const text = "a;b\r\nc;'d'\r\n'e'f;g\r\nh;i\r\nj;'k\r\n";
  const chunks = [Buffer.from(text)];
  const got = await rowsOf(Buffer.from(text), 'exchange', chunks, false);
  const expected = await rowsOf(Buffer.from(text), 'exchange', chunks, true);
  assert.deepEqual(got, expected);
  assert.ok('error' in got && got.error.startsWith('CSV_QUOTE_NOT_CLOSED'), JSON.stringify(got));
  const rows: string[][] = [];
  for await (const batch of parseStream(() => Readable.from([Buffer.from("a;b\r\n'e'f;g\r\nh;i\r\n")]), 'exchange')) rows.push(...batch.fields);
  assert.deepEqual(rows, [['a', 'b'], ["'e'f", 'g'], ['h', 'i']]);
});

test('a record longer than QuickCsv keeps between chunks (a 3 MiB quoted value) is parsed by csv-parse, the rows before it kept once', async () => {
  const long = 'x'.repeat(3 * 1024 * 1024);
  const text = `a;b\r\nc;'${long}'\r\nd;e\r\n`;
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 65_536) }, (_, i) => bytes.subarray(i * 65_536, (i + 1) * 65_536));
  const parser = new QuickCsv(';', "'");
  assert.throws(() => { for (const c of chunks) parser.push(c.toString('latin1'), false, { fields: [], multiline: [] }); }, QuickCsvUnsupported);
  const got = await rowsOf(bytes, 'exchange', chunks, false);
  assert.deepEqual(got, { fields: [['a', 'b'], ['c', long], ['d', 'e']], lines: [1, 2, 3] });
});

test('values are one-byte strings where they fit, beside a character past U+00FF in the same chunk; decoded before they are trimmed', async () => {
  // `ğ` made the whole decoded chunk a two-byte string, and every value sliced from it (V8 copies a
  // string's width): twice the bytes in V8's serialization (to the main thread, through a sandbox's batches).
  const text = "organization_code;lastname;email;city\r\nACME;Oğuz;p0000001@acme.example;Paris\r\nACME; Voilà ;p0000002@acme.example;  Besançon \r\n";
  for (const clean of [true, false]) {
    const rows: string[][] = [];
    for await (const batch of parseStream(() => Readable.from([Buffer.from(text)]), 'exchange', { clean })) rows.push(...batch.fields);
    const cell = (r: number, c: number) => clean ? rows[r][c] : rows[r][c].trim();
    assert.deepEqual([cell(1, 1), cell(2, 1), cell(2, 3)], ['Oğuz', 'Voilà', 'Besançon'], 'UTF-8 decoded; `à` (its last byte 0xA0) not taken for a space');
    for (const [r, c] of [[1, 2], [2, 2], [2, 3]]) {
      const oneByte = Buffer.from(rows[r][c], 'latin1').toString('latin1'); // the same text (Latin-1 only), one byte per character
      assert.equal(serialize(rows[r][c]).length, serialize(oneByte).length, `${rows[r][c]} is a one-byte string`);
    }
  }
});
