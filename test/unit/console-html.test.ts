import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitPastedKeys } from '../../core/http/console/accounts-pages';
import { href, html, raw } from '../../core/http/console/html';
import { readReportTable } from '../../core/http/console/report-table';
import { safeNext } from '../../core/http/console/session-pages';
import { renderReport } from '../../core/workflow/report-csv';

test('html`` escapes every value (text, attributes, arrays) and keeps nested templates and raw markup as they are', () => {
  const name = `<script>alert("x")</script>&'`;
  const out = html`<p title="${name}">${name}</p>${[html`<b>${'<i>'}</b>`, 'a<b']}${raw('<hr>')}${null}${false}${0}`.text;
  assert.equal(out, '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p><b>&lt;i&gt;</b>a&lt;b<hr>0');
  assert.equal(href('/console/files', { q: 'a&b c', state: '', cursor: undefined }), '/console/files?q=a%26b+c');
});

test('after a login, only a console page of this server is a destination', () => {
  assert.equal(safeNext('/console/files?state=rejected'), '/console/files?state=rejected');
  for (const bad of ['//evil.example/', 'https://evil.example/', '/console//evil.example', '/console/\\evil', '/api/v1/accounts', 'javascript:alert(1)', undefined, '/console/a\r\nSet-Cookie: x=1']) {
    assert.equal(safeNext(bad), '/console/', String(bad));
  }
});

test('pasted keys: one per OpenSSH line, RFC 4716 blocks kept whole, blank lines ignored', () => {
  const block = '---- BEGIN SSH2 PUBLIC KEY ----\nComment: "x"\nAAAAC3NzaC1lZDI1NTE5AAAAIGk=\n---- END SSH2 PUBLIC KEY ----';
  assert.deepEqual(splitPastedKeys(`ssh-ed25519 AAAA one\r\n\r\n${block}\n  ssh-rsa AAAB two  \n`), ['ssh-ed25519 AAAA one', block, 'ssh-rsa AAAB two']);
});

test('a report file reads back as its summary and its messages, formula guards removed for display', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-report-'));
  try {
    const file = join(dir, 'report.csv');
    writeFileSync(file, renderReport({
      fileName: 'in.csv', receivedAt: new Date('2027-01-02T03:04:05Z'), counts: { created: 1, updated: 0, unchanged: 0, rejected: 1 }, result: 'rejected',
      messages: [{ severity: 'error', line: 3, field: 'email', code: 'FG_EMAIL', message: '=HYPERLINK("x"); is not an e-mail address' }],
    }));
    const table = readReportTable(file)!;
    assert.deepEqual(table.summary.slice(0, 2), [['file', 'in.csv'], ['received', '2027-01-02T03:04:05.000Z']]);
    assert.deepEqual(table.columns, ['line', 'column', 'field', 'severity', 'code', 'entity_id', 'message']);
    assert.deepEqual(table.rows, [['3', '', 'email', 'error', 'FG_EMAIL', '', '=HYPERLINK("x"); is not an e-mail address']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
