import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { readRecords } from '../../core/records';
import { FileRejection, looseHeader, type RecordReaderOptions } from '../../core/plugin-api';

// XLSX workbooks are read through the archive's central directory (core/records/xlsx-workbook.ts).
// exceljs's one-pass streaming reader, with xl/workbook.xml stored last (as exceljs and Excel
// store it), now and then parsed the sheet before the workbook part: `Cannot read properties of
// undefined (reading 'sheets')`, FG_XLSX (about 1 read in 40 here; exceljs issue #3064).
const options: RecordReaderOptions = { dialect: 'dropbox', required: ['name', 'email'], normalizeHeader: looseHeader };
const dir = mkdtempSync(join(tmpdir(), 'fg-xlsx-'));

async function workbook(name: string, build: (wb: ExcelJS.Workbook) => void): Promise<string> {
  const wb = new ExcelJS.Workbook();
  build(wb);
  const path = join(dir, name);
  await wb.xlsx.writeFile(path);
  return path;
}

async function names(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readRecords(path, { ...options, fileName: 'people.xlsx' })) out.push(r.values.name);
  return out;
}

test('a two-sheet workbook, its workbook part stored last, reads its first sheet every time (300 reads)', async () => {
  const path = await workbook('two.xlsx', (wb) => {
    const first = wb.addWorksheet('People');
    first.addRow(['Name', 'Email']);
    for (let i = 0; i < 30; i++) first.addRow([`Person ${i}`, `p${i}@example.com`]);
    wb.addWorksheet('Other').addRow(['Name', 'Email']).commit();
  });
  const expected = Array.from({ length: 30 }, (_, i) => `Person ${i}`);
  for (let i = 0; i < 300; i++) assert.deepEqual(await names(path), expected, `read ${i + 1}`);
});

test('the first sheet is the workbook\'s first tab; shared strings, dates and numbers read as before', async () => {
  const path = await workbook('tabs.xlsx', (wb) => {
    const sheet = wb.addWorksheet('Staff');
    sheet.addRow(['Name', 'Email', 'Start']);
    sheet.addRow(['Zoë Ångström', 'z@example.com', new Date(Date.UTC(2026, 0, 31))]);
    sheet.addRow([42, 'n@example.com', 3.5]);
    wb.addWorksheet('Later').addRow(['Name', 'Email']);
  });
  const rows: Array<Record<string, string>> = [];
  for await (const r of readRecords(path, { ...options, fileName: 'tabs.xlsx' })) rows.push(r.values);
  assert.deepEqual(rows.map((r) => [r.name, r.email, r.start]), [['Zoë Ångström', 'z@example.com', '2026-01-31'], ['42', 'n@example.com', '3.5']]);
});

test('a workbook without sheets is FG_EMPTY_FILE; one without its workbook part is FG_XLSX, saying so', async () => {
  const empty = await workbook('empty.xlsx', () => undefined);
  await assert.rejects(names(empty), (err: unknown) => err instanceof FileRejection && err.code === 'FG_EMPTY_FILE');
  const whole = await workbook('whole.xlsx', (wb) => wb.addWorksheet('People').addRow(['Name', 'Email']));
  const partless = join(dir, 'partless.xlsx');
  execFileSync('python3', ['-c', `import zipfile, sys
src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED)
for item in src.infolist():
    if item.filename != 'xl/workbook.xml': dst.writestr(item, src.read(item))
dst.close()`, whole, partless]);
  await assert.rejects(names(partless), (err: unknown) => err instanceof FileRejection && err.code === 'FG_XLSX' && /xl\/workbook\.xml/.test(err.message));
});
