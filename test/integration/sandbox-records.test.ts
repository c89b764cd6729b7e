import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TestServer } from '../helpers/server';

// A sandboxed plugin's ctx.records(): a CSV input is read with the engine's reader in the sandbox
// (child-records.ts, sandboxRecords); an XLSX one is read by the engine, which sends the rows to
// the sandbox (records-feeder.ts), where the records are built.
// What the plugin gets must be what it gets in the server's process: the same records (lines
// across quoted line breaks, values, columns, headers, row problems), the same file rejections
// (header problems, CSV errors, encodings) with the same codes and messages, XLSX too.
const PLUGIN = join(__dirname, '..', 'fixtures', 'plugins', 'records-probe.ts');
const RECORDS = join(__dirname, '..', 'fixtures', 'records');

interface Tried { result: string; code: string | null; summary: string | null; sandboxed: boolean; messages: Array<{ message: string }> }

describe('a sandboxed plugin reads the records the engine parsed, as in the server\'s process', () => {
  const listed = new TestServer({ config: { plugins: [PLUGIN] } });
  const unlisted = new TestServer();
  after(async () => { await listed.cleanup(); await unlisted.cleanup(); });
  const files = mkdtempSync(join(tmpdir(), 'fg-sandbox-records-'));
  const tryIt = async (server: TestServer, fixture: string, name: string): Promise<Tried> => {
    const path = join(mkdtempSync(join(files, 'f-')), name);
    copyFileSync(fixture.startsWith('/') ? fixture : join(RECORDS, fixture), path);
    const r = await server.cli('plugin', 'test', PLUGIN, path, '--json');
    return JSON.parse(r.stdout) as Tried;
  };
  const both = async (fixture: string, name = 'ndmat_acme_acme_records_261121100000.csv'): Promise<{ sandboxed: Tried; inProcess: Tried }> => {
    const [sandboxed, inProcess] = await Promise.all([tryIt(listed, fixture, name), tryIt(unlisted, fixture, name)]);
    assert.equal(sandboxed.sandboxed, true);
    assert.equal(inProcess.sandboxed, false);
    const seen = (t: Tried) => ({ result: t.result, code: t.code, summary: t.summary, messages: t.messages.map((m) => m.message) });
    assert.deepEqual(seen(sandboxed), seen(inProcess), fixture);
    return { sandboxed, inProcess };
  };

  test('CSV records: quoted separators and line breaks, a BOM, field-count problems; a reader left early, then read again', async () => {
    const { sandboxed } = await both('dialect.csv');
    assert.equal(sandboxed.result, 'processed', JSON.stringify(sandboxed));
    const records = sandboxed.messages.slice(1, -1).map((m) => JSON.parse(m.message) as { line: number; values: Record<string, string> });
    assert.equal(sandboxed.messages[0].message, 'first: 2');
    assert.deepEqual(records.map((r) => r.line), [2, 3, 7, 8], 'blank lines skipped, a quoted line break counted');
    assert.equal(records[1].values.firstname, 'Jean\nPierre');
    assert.equal(records[2].values.lastname, 'Müller', 'NFC'); // the file writes u + a combining diaeresis
    const counted = await both('field-count.csv');
    assert.match(counted.sandboxed.messages.map((m) => m.message).join('\n'), /FG_FIELD_COUNT/);
  });

  test('header problems and unreadable files reject the file with the in-process codes and messages', async () => {
    const expected: Record<string, string> = {
      'missing-column.csv': 'FG_MISSING_COLUMN', 'duplicate-column.csv': 'FG_DUP_COLUMN', 'comma-separated.csv': 'FG_SEPARATOR',
      'unterminated-quote.csv': 'FG_UNTERMINATED_QUOTE', 'utf16le.csv': 'FG_UTF16', 'empty.csv': 'FG_EMPTY_FILE', 'spreadsheet-renamed.csv': 'FG_SPREADSHEET_AS_CSV',
    };
    for (const [fixture, code] of Object.entries(expected)) {
      const { sandboxed } = await both(fixture);
      assert.equal(sandboxed.code, code, `${fixture}: ${JSON.stringify(sandboxed)}`);
      assert.notEqual(sandboxed.result, 'processed', fixture);
    }
  });

  test('a CSV input of 1 MiB and more (QuickCsv, in the sandbox): every record, in order', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => `ACME;${String(i + 1).padStart(7, '0')};Lastname-${i};Firstname;p${i}@acme.example;${'x'.repeat(60)}`);
    const path = join(mkdtempSync(join(files, 'big-')), 'big.csv');
    writeFileSync(path, ['organization_code;registration_reference;lastname;firstname;professional_email;note', ...rows, ''].join('\n'));
    assert.ok(statSync(path).size >= 1024 * 1024);
    const { sandboxed } = await both(path);
    assert.equal(sandboxed.result, 'processed', JSON.stringify(sandboxed).slice(0, 500));
    assert.match(sandboxed.messages.at(-1)!.message, new RegExp(`^records ${rows.length}, last line ${rows.length + 1}, sha256 [0-9a-f]{64}$`));
  });

  test('an XLSX workbook, its headers through the plugin\'s own normalizeHeader', async () => {
    const { sandboxed } = await both('employees.xlsx', 'hris-export.xlsx');
    assert.equal(sandboxed.result, 'processed', JSON.stringify(sandboxed));
    assert.ok(sandboxed.messages.length > 2, JSON.stringify(sandboxed.messages));
  });
});
