import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords } from '../../core/records';
import { FileRejection, looseHeader, type RecordReaderOptions, type SourceRecord } from '../../core/plugin-api';
import { backgroundNice } from '../../core/thread-priority';
import { threadNiceValues } from '../helpers/threads';

const FIX = join(__dirname, '..', 'fixtures');
const REC = join(FIX, 'records');
const SAL_COLUMNS = ['organization_code', 'registration_reference', 'lastname', 'firstname'];
const exchange: RecordReaderOptions = { dialect: 'exchange', required: SAL_COLUMNS };
const dropbox: RecordReaderOptions = { dialect: 'dropbox', required: ['name', 'email'], normalizeHeader: looseHeader };

async function readAll(path: string, options: RecordReaderOptions, signal?: AbortSignal): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of readRecords(path, options, signal)) out.push(r);
  return out;
}

async function rejection(path: string, options: RecordReaderOptions): Promise<FileRejection> {
  try {
    await readAll(path, options);
  } catch (err) {
    assert.ok(err instanceof FileRejection, `expected a FileRejection, got ${String(err)}`);
    return err;
  }
  assert.fail(`${path} was accepted`);
}

test('reads the exchange sal fixture: 60 rows, line numbers, leading zeros, quoted values', async () => {
  const rows = await readAll(join(FIX, 'exchange', 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv'), exchange);
  assert.equal(rows.length, 60);
  assert.equal(rows[0].line, 2);
  assert.equal(rows[59].line, 61);
  assert.equal(rows[0].values.registration_reference, '000001');
  assert.equal(rows[0].columns.lastname, 4);
  const obrien = rows.find((r) => r.values.registration_reference === '000010')!;
  assert.equal(obrien.values.lastname, "O'Brien");
  const building = rows.find((r) => r.values.registration_reference === '000017')!;
  assert.equal(building.values.address2, 'Bât. B; Esc 3');
  assert.ok(rows.every((r) => r.problems.length === 0));
});

test('exchange dialect: BOM, LF, doubled quotes, embedded newline, trimming, NFC, blank lines', async () => {
  const rows = await readAll(join(REC, 'dialect.csv'), { dialect: 'exchange', required: SAL_COLUMNS });
  assert.deepEqual(rows.map((r) => r.line), [2, 3, 7, 8]);
  assert.equal(rows[0].values.lastname, "O'Brien");
  assert.equal(rows[1].values.lastname, 'Dupont; Jr');
  assert.equal(rows[1].values.firstname, 'Jean\nPierre');
  assert.equal(rows[1].values.professional_email, 'j@acme.example');
  assert.equal(rows[2].values.lastname, 'M\u00fcller', 'decomposed ü is normalised to NFC');
  assert.equal(rows[2].values.registration_reference, '000003');
  assert.equal(rows[3].values.lastname, "d'Artagnan", 'an unquoted apostrophe is data');
  assert.ok('organization_code' in rows[0].values, 'the BOM is not part of the first header');
});

test('drop-box dialect: comma, headers matched ignoring case, spaces and underscores', async () => {
  const rows = await readAll(join(FIX, 'dropbox', 'employees.csv'), dropbox);
  assert.equal(rows.length, 40);
  assert.equal(rows[0].values.name, 'João Kowalski');
  assert.equal(rows[0].values.employeeid, 'E00001');
  assert.equal(rows[1].values.manageremail, 'person1@nectar-customer.example');
  assert.equal(rows[0].columns.dateofbirth, 7);
  assert.equal(rows[0].headers?.manageremail, 'Manager Email', 'the header as the file writes it, for reports');
  assert.equal(rows[0].headers?.employeeid, 'Employee ID');
  assert.equal(rows[39].headers, rows[0].headers, 'one object for the whole file');
});

test('drop-box XLSX: first sheet only, dates as YYYY-MM-DD, text ids keep leading zeros', async () => {
  const rows = await readAll(join(REC, 'employees.xlsx'), { ...dropbox, fileName: 'employees.xlsx' });
  assert.equal(rows.length, 41);
  assert.equal(rows[0].values.email, 'person1@nectar-customer.example');
  assert.equal(rows[0].line, 2);
  const late = rows[40];
  assert.equal(late.line, 43, 'row numbers of the sheet, the blank row counted');
  assert.equal(late.values.employeeid, '000123');
  assert.equal(late.values.dateofbirth, '1990-01-15');
  assert.equal(late.values.startdate, '2025-06-01');
  assert.equal(late.headers?.dateofbirth, 'Date of Birth');
});

test('Windows-1252 file: FG_ENCODING with the byte offset of the first bad sequence', async () => {
  const err = await rejection(join(FIX, 'bad', 'ndmat_acme_acme_sal_hrmanager_v6_261120093100.csv'), exchange);
  assert.equal(err.code, 'FG_ENCODING');
  assert.equal(err.details.offset, 677);
  assert.equal(err.details.line, 4);
  assert.match(err.message, /byte offset 677/);
});

test('invalid UTF-8 far into a large file is found at the right offset across chunk boundaries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const header = 'organization_code;registration_reference;lastname;firstname\n';
  const row = 'ACME;000001;Müller;Ånna\n';
  const good = header + row.repeat(40_000);
  const bytes = Buffer.concat([Buffer.from(good), Buffer.from('ACME;2;M'), Buffer.from([0xe9]), Buffer.from('ller;A\n')]);
  writeFileSync(join(dir, 'big.csv'), bytes);
  const err = await rejection(join(dir, 'big.csv'), exchange);
  assert.equal(err.code, 'FG_ENCODING');
  assert.equal(err.details.offset, Buffer.byteLength(good) + 8);
  assert.equal(err.details.line, 40_002);
  // A multi-byte character cut at the very end of the file is invalid too.
  writeFileSync(join(dir, 'cut.csv'), Buffer.concat([Buffer.from(header + 'ACME;1;M'), Buffer.from([0xc3])]));
  const cut = await rejection(join(dir, 'cut.csv'), exchange);
  assert.equal(cut.details.offset, Buffer.byteLength(header) + 8);
});

test('a NUL byte past the sniffed head is FG_ENCODING at its offset and line, not a value (PostgreSQL refuses it; SQLite stored it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const good = 'organization_code;registration_reference;lastname;firstname\n' + 'ACME;000001;Müller;Ånna\n'.repeat(2_000);
  writeFileSync(join(dir, 'nul.csv'), Buffer.concat([Buffer.from(good), Buffer.from('ACME;2;M\u0000ller;A\nACME;3;B;C\n')]));
  const err = await rejection(join(dir, 'nul.csv'), exchange);
  assert.equal(err.code, 'FG_ENCODING');
  assert.equal(err.details.offset, Buffer.byteLength(good) + 8);
  assert.equal(err.details.line, 2_002);
  assert.match(err.message, /NUL byte at byte offset \d+ \(line 2002\)/);
});

const fileLevel: Array<[string, string, RegExp, RecordReaderOptions?]> = [
  ['empty.csv', 'FG_EMPTY_FILE', /empty/],
  ['blank-lines.csv', 'FG_EMPTY_FILE', /empty/],
  ['utf16le.csv', 'FG_UTF16', /UTF-16/],
  ['spreadsheet-renamed.csv', 'FG_SPREADSHEET_AS_CSV', /workbook \(XLSX\)/],
  ['legacy-xls.csv', 'FG_SPREADSHEET_AS_CSV', /legacy Excel/],
  ['comma-separated.csv', 'FG_SEPARATOR', /separated by comma \(,\), but exchange files use semicolon/],
  ['duplicate-column.csv', 'FG_DUP_COLUMN', /'lastname' appears twice/],
  ['missing-column.csv', 'FG_MISSING_COLUMN', /registration_reference/],
  ['unterminated-quote.csv', 'FG_UNTERMINATED_QUOTE', /line 3/],
];
for (const [name, code, message, options] of fileLevel) {
  test(`file-level: ${name} is rejected with ${code}`, async () => {
    const err = await rejection(join(REC, name), options ?? exchange);
    assert.equal(err.code, code);
    assert.match(err.message, message);
  });
}

test('file-level: an exchange file read in the drop-box dialect names the semicolon it found', async () => {
  const err = await rejection(join(FIX, 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv'), dropbox);
  assert.equal(err.code, 'FG_SEPARATOR');
  assert.match(err.message, /semicolon/);
});

test('file-level: a file named .xlsx that is not a workbook is FG_XLSX', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  writeFileSync(join(dir, 'fake.xlsx'), 'Name,Email\nA,a@b.example\n');
  const err = await rejection(join(dir, 'fake.xlsx'), dropbox);
  assert.equal(err.code, 'FG_XLSX');
});

test('row-level: too few or too many fields give FG_FIELD_COUNT on that row only', async () => {
  const rows = await readAll(join(REC, 'field-count.csv'), exchange);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0].problems, []);
  assert.equal(rows[1].problems[0].code, 'FG_FIELD_COUNT');
  assert.equal(rows[1].line, 3);
  assert.equal(rows[2].problems[0].code, 'FG_FIELD_COUNT');
  assert.equal(rows[2].problems[0].column, 6);
});

test('an aborted signal stops the reader', async () => {
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const r of readRecords(join(FIX, 'exchange', 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv'), exchange, controller.signal)) {
      seen.push(r.line);
      if (seen.length === 3) controller.abort(new Error('stop now'));
    }
  }, /stop now/);
  assert.equal(seen.length, 3);
});

// Big files are parsed on the parse worker thread (engine.parseThreadMinBytes): the same
// records and the same rejections must come out of it. parseThreadMinBytes 0 sends every file there.
const onThread = { parseThreadMinBytes: 0 };

async function readAllOnThread(path: string, options: RecordReaderOptions, signal?: AbortSignal): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of readRecords(path, options, signal, onThread)) out.push(r);
  return out;
}

test('parse thread: the same records as this thread (fixture, dialect quirks, drop-box CSV, field counts)', async () => {
  const cases: Array<[string, RecordReaderOptions]> = [
    [join(FIX, 'exchange', 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv'), exchange],
    [join(REC, 'dialect.csv'), exchange],
    [join(FIX, 'dropbox', 'employees.csv'), dropbox],
    [join(REC, 'field-count.csv'), exchange],
  ];
  for (const [path, options] of cases) {
    const here = await readAll(path, options);
    assert.ok(here.length > 0);
    assert.deepEqual(await readAllOnThread(path, options), here, path);
  }
});

// Old Mac files end lines with a lone CR; exports stitched together mix CR, LF and CRLF.
// Every line ending ends a record (line numbers count each once); inside quotes they are data.
test('line endings: lone CR, LF and CRLF mixed in one file each end a record; quoted ones are data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const header = 'organization_code;registration_reference;lastname;firstname';
  const text = `${header}\r\n`
    + 'ACME;001;Martin;Anna\r'                 // 2 lone CR
    + 'ACME;002;Durand;Paul\n'                 // 3 LF
    + "ACME;003;'Dupont\rDe\r\nLa\nCour';Jean\r" // 4-7 a quoted value holding CR, CRLF and LF
    + '\r'                                     // 8 a blank line (lone CR)
    + 'ACME;004;Rossi;Lars\r\n'                // 9 CRLF
    + 'ACME;005;Nguyen;Priya\r';               // 10 lone CR at the very end
  const path = join(dir, 'mac.csv');
  writeFileSync(path, text);
  for (const read of [readAll, readAllOnThread]) {
    const rows = await read(path, exchange);
    assert.deepEqual(rows.map((r) => [r.line, r.values.registration_reference]),
      [[2, '001'], [3, '002'], [4, '003'], [9, '004'], [10, '005']], read.name);
    assert.equal(rows[2].values.lastname, 'Dupont\rDe\r\nLa\nCour', 'line endings inside quotes are data');
    assert.ok(rows.every((r) => r.problems.length === 0), JSON.stringify(rows.map((r) => r.problems)));
  }
});

test('line endings: a lone CR first met far into an LF file (in a quoted value) still counts as a line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const rows = ['organization_code;registration_reference;lastname;firstname'];
  for (let i = 1; i <= 5000; i++) rows.push(`ACME;${String(i).padStart(6, '0')};Martin;Anna`); // ~130 KiB of LF lines
  rows.push("ACME;999998;'Dupont\rDe La Cour';Jean", 'ACME;999999;Last;Row');
  const path = join(dir, 'late-cr.csv');
  writeFileSync(path, rows.join('\n') + '\n');
  for (const read of [readAll, readAllOnThread]) {
    const last = (await read(path, exchange)).slice(-2);
    assert.deepEqual(last.map((r) => [r.line, r.values.registration_reference]), [[5002, '999998'], [5004, '999999']], read.name);
  }
});

test('line endings: FG_ENCODING names the line counting lone CRs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const path = join(dir, 'latin1-mac.csv');
  writeFileSync(path, Buffer.concat([Buffer.from('organization_code;registration_reference;lastname;firstname\rACME;1;A;B\r\nACME;2;M'), Buffer.from([0xfc]), Buffer.from('ller;A\r')]));
  const err = await rejection(path, exchange);
  assert.equal(err.code, 'FG_ENCODING');
  assert.equal(err.details.line, 3);
});

test('line endings: a CRLF split across two reads is one ending (no blank record, no line shift)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const header = 'organization_code;registration_reference;lastname;firstname\r\n';
  // ASCII rows, then one padded so that its CR is the last byte of the first 64 KiB read.
  const row = (i: number) => `ACME;${String(i).padStart(6, '0')};Martin;Annabelle\r\n`;
  let text = header;
  let i = 0;
  while (text.length + 2 * row(i).length < 65_536) text += row(i++);
  const fill = 65_536 - text.length - 1; // bytes before the CR that ends the first read
  text += `ACME;999999;Martin;${'B'.repeat(fill - 'ACME;999999;Martin;'.length)}\r\n` + row(i + 1);
  assert.equal(text.charCodeAt(65_535), 13, 'the CR is the last byte of the first read');
  const path = join(dir, 'boundary.csv');
  writeFileSync(path, text);
  for (const read of [readAll, readAllOnThread]) {
    const rows = await read(path, exchange);
    assert.equal(rows.length, i + 2, read.name);
    assert.deepEqual(rows.slice(-2).map((r) => [r.line, r.values.registration_reference]), [[i + 2, '999999'], [i + 3, String(i + 1).padStart(6, '0')]], read.name);
  }
});

test('parse thread: file-level rejections keep their code, message and details', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const good = 'organization_code;registration_reference;lastname;firstname\n' + 'ACME;000001;Müller;Ånna\n'.repeat(40_000);
  writeFileSync(join(dir, 'big.csv'), Buffer.concat([Buffer.from(good), Buffer.from('ACME;2;M'), Buffer.from([0xe9]), Buffer.from('ller;A\n')]));
  const files: Array<[string, string]> = [
    [join(dir, 'big.csv'), 'FG_ENCODING'],
    [join(REC, 'unterminated-quote.csv'), 'FG_UNTERMINATED_QUOTE'],
    [join(REC, 'duplicate-column.csv'), 'FG_DUP_COLUMN'],
    [join(REC, 'comma-separated.csv'), 'FG_SEPARATOR'],
  ];
  for (const [path, code] of files) {
    const here = await rejection(path, exchange);
    let there: unknown;
    try { await readAllOnThread(path, exchange); } catch (err) { there = err; }
    assert.ok(there instanceof FileRejection, `${path}: expected a FileRejection, got ${String(there)}`);
    assert.equal(there.code, code);
    assert.equal(there.message, here.message);
    assert.deepEqual(there.details, here.details);
  }
});

test('parse thread: a reader that stops early or is aborted frees its job; the next file still reads', async () => {
  const path = join(FIX, 'exchange', 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
  for await (const r of readRecords(path, exchange, undefined, onThread)) if (r.line === 3) break;
  const controller = new AbortController();
  await assert.rejects(async () => {
    for await (const r of readRecords(path, exchange, controller.signal, onThread)) if (r.line === 4) controller.abort(new Error('stop now'));
  }, /stop now/);
  assert.equal((await readAllOnThread(path, exchange)).length, 60);
});

test('a handler busy with every record still lets the event loop turn while the parse thread feeds it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rec-'));
  const path = join(dir, 'big.csv');
  writeFileSync(path, 'organization_code;registration_reference;lastname;firstname\n' + 'ACME;000001;Müller;Ånna\n'.repeat(20_000));
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 1);
  let rows = 0;
  const busyUntil = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end); };
  try {
    // 20,000 records at 40 µs each: about 800 ms of synchronous work spread over the file.
    for await (const _ of readRecords(path, exchange, undefined, onThread)) { rows++; busyUntil(0.04); }
  } finally {
    clearInterval(timer);
  }
  assert.equal(rows, 20_000);
  // A turn every 4 ms of work: about 200 in 800 ms; without them it fired about 15 times, all before the worker got ahead.
  assert.ok(ticks >= 80, `the timer fired ${ticks} times while the file was read`);
});

test('the parse thread runs at a lower CPU priority than this thread (the event loop comes first)', async () => {
  const path = join(FIX, 'exchange', 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
  let seen: Map<number, number> | undefined;
  for await (const _ of readRecords(path, exchange, undefined, onThread)) seen ??= threadNiceValues();
  const mine = seen!.get(process.pid)!;
  assert.ok(backgroundNice(mine) > mine, 'run the tests below nice 19');
  assert.ok([...seen!.values()].includes(backgroundNice(mine)), `nice values of this process's threads: ${JSON.stringify([...seen!])}`);
});
