import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { cell, renderReport } from '../../core/workflow/report-csv';
import { CollectingReportBuilder, MAX_INFO_MESSAGES } from '../../core/workflow/report-builder';

describe('report rendering', () => {
  const text = renderReport({
    fileName: 'ndmat_acme_acme_sal_261120090500.csv',
    receivedAt: new Date('2026-11-20T09:05:00Z'),
    counts: { created: 3, updated: 2, unchanged: 1, rejected: 1 },
    result: 'processed',
    summary: '7 rows',
    messages: [
      { line: 4, column: 2, field: 'last_name', severity: 'error', code: 'FG_REQUIRED', entityId: 'E001', message: 'a; "quoted" value' },
      { line: 5, field: 'formula', severity: 'warning', entityId: '=HYPERLINK("http://x")', message: '+cmd|calc' },
      { line: 6, field: 'birth_date', severity: 'error', code: 'FG_DATE', entityId: 'E003', message: 'birth_date "1980-02-31" is not a real date' },
      { line: 7, field: 'note', severity: 'warning', entityId: 'E004', message: 'call 06 12 34 56 78 or +33 6 12 34 56 78 before 2026-01-01' },
    ],
  });

  test('UTF-8 with BOM, CRLF, summary block then the message table', () => {
    assert.ok(text.startsWith('\uFEFFfile;ndmat_acme_acme_sal_261120090500.csv\r\n'));
    const lines = text.slice(1).split('\r\n');
    assert.deepEqual(lines.slice(0, 9), [
      'file;ndmat_acme_acme_sal_261120090500.csv', 'received;2026-11-20T09:05:00.000Z',
      'created;3', 'updated;2', 'unchanged;1', 'rejected;1', 'result;processed', 'summary;7 rows', '',
    ]);
    assert.equal(lines[9], 'line;column;field;severity;code;entity_id;message');
  });

  test('values round-trip through a CSV parser with ";" and quotes', () => {
    const rows = parse<Record<string, string>>(text.slice(text.indexOf('line;column')), { delimiter: ';', columns: true });
    assert.equal(rows.length, 4);
    assert.deepEqual(rows[0], { line: '4', column: '2', field: 'last_name', severity: 'error', code: 'FG_REQUIRED', entity_id: 'E001', message: 'a; "quoted" value' });
    assert.equal(rows[1].entity_id, `'=HYPERLINK("http://x")`);
    assert.equal(rows[1].message, `'+cmd|calc`);
  });

  test('no birth date or phone number is echoed', () => {
    assert.ok(!text.includes('1980-02-31'));
    assert.match(text, /birth_date: the value is not a real date/);
    assert.ok(!text.includes('06 12 34 56 78'));
    assert.ok(!text.includes('+33 6'));
    assert.match(text, /call \[redacted\] or \[redacted\] before 2026-01-01/);
  });

  test('every formula trigger is neutralised', () => {
    for (const v of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) assert.ok(cell(v).replace(/^"/, '').startsWith("'"), v);
    assert.equal(cell('plain'), 'plain');
    assert.equal(cell('a"b'), '"a""b"');
  });
});

describe('report builder', () => {
  test('counts every row; info lines are capped before errors so errors are never crowded out', () => {
    const b = new CollectingReportBuilder();
    for (let i = 0; i < MAX_INFO_MESSAGES + 10; i++) b.count('created', `E${i}`, i + 2);
    b.count('unchanged', 'U1', 3);
    b.count('rejected', 'R1', 4);
    b.add({ severity: 'error', code: 'FG_REQUIRED', line: 4, message: 'missing' });
    assert.deepEqual(b.counts, { created: MAX_INFO_MESSAGES + 10, updated: 0, unchanged: 1, rejected: 1 });
    assert.equal(b.dropped, 10);
    assert.equal(b.messages.filter((m) => m.severity === 'error').length, 2);
    assert.ok(!b.messages.some((m) => m.entityId === 'U1'), 'unchanged rows are counted, not listed');
  });
});
