import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTHON, skipUnless } from '../helpers/tools';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import { addAccount, directory, FIXTURES, renamedCopy, uploadAndWait } from './fixtures-support';

// File-level rejections through the real server: the whole file is rejected with its code,
// kept in quarantine, reported, and nothing of it reaches the directory or the vault.
const skip = skipUnless('sftp', 'ssh-keygen');
const REC = join(FIXTURES, 'records');
const work = mkdtempSync(join(tmpdir(), 'fg-ferr-'));
let server: TestServer;
let key: TestKey;
let stamp = 261121110000;
const salName = () => `ndmat_acme_acme_sal_hrmanager_v6_${stamp++}.csv`;
const disName = () => `ndmat_acme_acme_dis_payroll_v2_${stamp++}.zip`;

before(async () => {
  if (skip) return;
  server = new TestServer({ config: { documents: { maxEntries: 20, maxTotalUncompressedBytes: 5_000_000, maxCompressionRatio: 50 } } });
  await server.start();
  key = await addAccount(server, 'acme');
  for (const [name, dir] of [['ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv', 'in/sir/'], ['ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv', 'in/sal/']]) {
    assert.equal((await uploadAndWait(server, 'acme', key, join(FIXTURES, 'exchange', name), dir)).state, 'processed');
  }
});
after(async () => { await server?.cleanup(); });

const csvCases: Array<[string, string, RegExp]> = [
  ['empty.csv', 'FG_EMPTY_FILE', /empty/],
  ['utf16le.csv', 'FG_UTF16', /UTF-16/],
  ['spreadsheet-renamed.csv', 'FG_SPREADSHEET_AS_CSV', /XLSX/],
  ['comma-separated.csv', 'FG_SEPARATOR', /comma/],
  ['duplicate-column.csv', 'FG_DUP_COLUMN', /lastname/],
  ['missing-column.csv', 'FG_MISSING_COLUMN', /registration_reference/],
  ['unterminated-quote.csv', 'FG_UNTERMINATED_QUOTE', /line 3/],
];
for (const [fixture, code, message] of csvCases) {
  test(`sal file ${fixture}: rejected whole with ${code}, kept and reported`, { skip }, async () => {
    const f = await uploadAndWait(server, 'acme', key, renamedCopy(join(REC, fixture), salName()), 'in/sal/');
    assert.equal(f.state, 'rejected', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.code, code);
    assert.match(f.outcome?.summary ?? '', message);
    assert.match(f.location, /quarantine/);
    assert.ok(f.report);
  });
}

// --- dis: hostile and broken archives (built with Python's zipfile, which writes any name) ---

const PDF = '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n';
const xml = (ref: string, reg = '000001', org = 'ACME-DE-BER') => `<?xml version="1.0" encoding="utf-8"?>
<document><external_reference>${ref}</external_reference><document_title>Payslip</document_title><document_date>2026-10-31</document_date>
<user_data><first_name>A</first_name><last_name>B</last_name><organization_code>${org}</organization_code><registration_key>${reg}</registration_key><technical_id></technical_id></user_data></document>`;

/** Text, or N zero bytes (compresses ~1000×), or N random bytes (does not compress). */
type Content = string | { zeros: number } | { random: number };

function makeZip(entries: Array<[string, Content]>): string {
  const dir = mkdtempSync(join(work, 'zip-'));
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify(entries));
  const out = join(dir, disName());
  execFileSync(PYTHON, ['-c', `
import json, os, sys, zipfile
entries = json.load(open(sys.argv[1]))
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:
    for name, content in entries:
        if isinstance(content, dict):
            data = b'\\0' * content['zeros'] if 'zeros' in content else os.urandom(content['random'])
        else:
            data = content.encode('utf-8')
        z.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
`, spec, out]);
  return out;
}

const vaultFiles = () => {
  const dir = join(server.dataDir, 'vault', 'acme', 'documents');
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith('.')) : [];
};

const zipCases: Array<[string, Array<[string, Content]>, string, RegExp]> = [
  ['an entry with ..', [['a.pdf', PDF], ['a.xml', xml('Z1')], ['../../evil.pdf', PDF]], 'FG_ZIP_UNSAFE', /\.\./],
  ['an absolute path', [['a.pdf', PDF], ['a.xml', xml('Z2')], ['/tmp/evil.pdf', PDF]], 'FG_ZIP_UNSAFE', /absolute|leaves/],
  ['the same name twice', [['a.pdf', PDF], ['a.xml', xml('Z3')], ['a.pdf', PDF]], 'FG_ZIP_UNSAFE', /"a\.pdf" twice/],
  ['the same name but for case', [['a.pdf', PDF], ['a.xml', xml('Z3')], ['A.PDF', PDF]], 'FG_ZIP_UNSAFE', /"a\.pdf" and "A\.PDF", the same name but for case/],
  ['a PDF that is not a PDF', [['a.pdf', 'MZ\x90 this is an executable'], ['a.xml', xml('Z4')]], 'FG_NOT_PDF', /%PDF-/],
  ['a PDF without its XML', [['a.pdf', PDF], ['a.xml', xml('Z5')], ['b.pdf', PDF]], 'FG_ZIP_PAIRING', /b\.xml/],
  ['too many entries', Array.from({ length: 22 }, (_, i) => [`d${i}.${i % 2 ? 'xml' : 'pdf'}`, PDF] as [string, string]), 'FG_ZIP_LIMIT', /entries/],
  ['a zip bomb (ratio)', [['a.pdf', PDF], ['a.xml', xml('Z6')], ['bomb.txt', { zeros: 4_000_000 }]], 'FG_ZIP_LIMIT', /expands/],
  ['too much uncompressed data', [['a.pdf', PDF], ['a.xml', xml('Z7')], ['big.pdf', { random: 6_000_000 }]], 'FG_ZIP_LIMIT', /expands to more than 5000000 bytes/],
];
for (const [what, entries, code, message] of zipCases) {
  test(`dis archive with ${what}: rejected with ${code}, nothing written to the vault`, { skip }, async () => {
    const before = vaultFiles();
    const f = await uploadAndWait(server, 'acme', key, makeZip(entries), 'in/dis/');
    assert.equal(f.state, 'rejected', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.code, code);
    assert.match(f.outcome?.summary ?? '', message);
    assert.deepEqual(vaultFiles(), before);
    assert.ok(!existsSync(join(server.dataDir, 'evil.pdf')) && !existsSync('/tmp/evil.pdf'));
  });
}

test('dis: an unknown employee rejects that document only; the others are stored', { skip }, async () => {
  const f = await uploadAndWait(server, 'acme', key, makeZip([
    ['ok.pdf', PDF], ['ok.xml', xml('DOC-OK', '000002', 'ACME-DE')],
    ['ghost.pdf', PDF + '%ghost'], ['ghost.xml', xml('DOC-GHOST', '999999')],
    ['nodate.pdf', PDF + '%nodate'], ['nodate.xml', xml('DOC-NODATE').replace('2026-10-31', '2026-13-01')],
  ]), 'in/dis/');
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  assert.equal(f.outcome?.counts?.created, 1);
  assert.equal(f.outcome?.counts?.rejected, 2);
  const docs = await directory<{ externalReference: string; registrationReference: string }>(server, 'documents', 'acme');
  assert.deepEqual(docs.map((d) => d.externalReference), ['DOC-OK']);
  assert.equal(docs[0].registrationReference, '000002');
  assert.equal(vaultFiles().length, 1);
});
