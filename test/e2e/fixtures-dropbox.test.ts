import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from '../helpers/tools';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import type { Employee, ReportMessage } from '../../core/plugin-api';
import { addAccount, directory, FIXTURES, renamedCopy, uploadAndWait, type FileView } from './fixtures-support';

// The drop-box fixture (CSV) and an XLSX workbook uploaded to a drop-box account's `/`;
// results are read back through the CLI (drop-box accounts have no out/ tree).
const skip = skipUnless('sftp', 'ssh-keygen');
const work = mkdtempSync(join(tmpdir(), 'fg-dbx-'));
let server: TestServer;
let key: TestKey;

before(async () => {
  if (skip) return;
  server = new TestServer();
  await server.start();
  key = await addAccount(server, 'nectar', 'dropbox');
});
after(async () => { await server?.cleanup(); });

/** The report messages the journal keeps for a drop-box file (`fluxgate files show ID --json`). */
async function messages(file: FileView): Promise<ReportMessage[]> {
  const r = await server.cli('files', 'show', file.id, '--json');
  const shown = JSON.parse(r.stdout) as { events: Array<{ type: string; messages?: ReportMessage[] }> };
  return shown.events.filter((e) => e.type === 'report').flatMap((e) => e.messages ?? []);
}

const csv = (name: string, lines: string[]) => {
  const path = join(work, name);
  writeFileSync(path, lines.join('\r\n') + '\r\n');
  return path;
};
const HEADER = 'Name,Email,Employee ID,Preferred Name,Manager Email,Department,Date of Birth,Start Date,Office Location';

test('employees.csv: 40 employees created; US dates stored as YYYY-MM-DD; managers linked', { skip }, async () => {
  const f = await uploadAndWait(server, 'nectar', key, join(FIXTURES, 'dropbox', 'employees.csv'), '/');
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  assert.deepEqual({ ...f.outcome?.counts }, { created: 40, updated: 0, unchanged: 0, rejected: 0 });
  const employees = await directory<Employee>(server, 'employees', 'nectar');
  assert.equal(employees.length, 40);
  const first = employees.find((e) => e.email === 'person1@nectar-customer.example')!;
  assert.equal(first.technicalId, 'E00001');
  assert.equal(first.firstname, 'João');
  assert.equal(first.lastname, 'Kowalski');
  assert.equal(first.attributes.date_of_birth, '1995-10-28');
  assert.equal(first.attributes.start_date, '2024-08-01');
  assert.equal(employees.find((e) => e.technicalId === 'E00002')!.attributes.manager_email, 'person1@nectar-customer.example');
});

test('the same people as an XLSX workbook: unchanged, plus one new employee with a text id', { skip }, async () => {
  const f = await uploadAndWait(server, 'nectar', key, renamedCopy(join(FIXTURES, 'records', 'employees.xlsx'), 'hris-export.xlsx'), '/');
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  assert.deepEqual({ ...f.outcome?.counts }, { created: 1, updated: 0, unchanged: 40, rejected: 0 });
  const late = (await directory<Employee>(server, 'employees', 'nectar')).find((e) => e.email === 'late@nectar-customer.example')!;
  assert.equal(late.technicalId, '000123');
  assert.equal(late.attributes.date_of_birth, '1990-01-15');
});

test('Employee ID identifies an employee whose e-mail changed', { skip }, async () => {
  const f = await uploadAndWait(server, 'nectar', key, csv('email-change.csv', [HEADER, 'João Kowalski,joao.k@nectar-customer.example,E00001,João,,Engineering,10/28/1995,2024-08-01,Austin']), '/');
  assert.deepEqual({ ...f.outcome?.counts }, { created: 0, updated: 1, unchanged: 0, rejected: 0 });
  const employees = await directory<Employee>(server, 'employees', 'nectar');
  assert.equal(employees.length, 41);
  assert.equal(employees.find((e) => e.technicalId === 'E00001')!.email, 'joao.k@nectar-customer.example');
});

test('row errors: unknown manager, the same e-mail or Employee ID twice, missing name, bad date, bad e-mail; each with line, column, field as written and code', { skip }, async () => {
  const f = await uploadAndWait(server, 'nectar', key, csv('bad-rows.csv', [
    HEADER,
    'Ann Ok,ann@nectar-customer.example,E90001,,joao.k@nectar-customer.example,Ops,1/2/1990,2025-01-01,Remote', // 2 ok (known manager)
    'Bob Boss,bob@nectar-customer.example,E90002,,nobody@nectar-customer.example,Ops,,,',                      // 3 FG_UNKNOWN_REF
    'Cy One,cy@nectar-customer.example,E90003,,,Ops,,,',                                                        // 4 FG_DUP_IN_FILE
    'Cy Two,cy@nectar-customer.example,E90004,,,Sales,,,',                                                      // 5 FG_DUP_IN_FILE
    ',noname@nectar-customer.example,E90005,,,Ops,,,',                                                          // 6 FG_REQUIRED
    'Di Date,di@nectar-customer.example,E90006,,,Ops,13/45/1990,,',                                             // 7 FG_DATE
    'Ed Mail,ed-at-example,E90007,,,Ops,,,',                                                                    // 8 FG_EMAIL
    'Fay New,fay@nectar-customer.example,E90008,,ann@nectar-customer.example,Ops,,,',                           // 9 ok (manager in this file)
    'Gus Under,gus@nectar-customer.example,E90009,,bob@nectar-customer.example,Ops,,,',                         // 10 FG_UNKNOWN_REF (manager rejected)
    'Hal One,hal1@nectar-customer.example,E90010,,,Ops,,,',                                                     // 11 FG_DUP_IN_FILE (Employee ID)
    'Hal Two,hal2@nectar-customer.example,E90010,,,Ops,,,',                                                     // 12 FG_DUP_IN_FILE (Employee ID)
    'Ivy One,ivy@nectar-customer.example,E90011,,,Ops,,,',                                                      // 13 FG_DUP_IN_FILE (both)
    'Ivy Two,ivy@nectar-customer.example,E90011,,,Ops,,,',                                                      // 14 FG_DUP_IN_FILE (both)
  ]), '/');
  assert.equal(f.state, 'processed');
  assert.deepEqual({ ...f.outcome?.counts }, { created: 2, updated: 0, unchanged: 0, rejected: 11 });
  const errors = (await messages(f)).filter((m) => m.severity === 'error' && m.code);
  // Fields are named by the header as the file writes it, never by the matching form (`manageremail`).
  const at = (line: number) => errors.filter((m) => m.line === line).map((m) => `${m.code}:${m.column}:${m.field}`);
  assert.deepEqual(at(3), ['FG_UNKNOWN_REF:5:Manager Email']);
  assert.deepEqual(at(4), ['FG_DUP_IN_FILE:2:Email']);
  assert.deepEqual(at(5), ['FG_DUP_IN_FILE:2:Email']);
  assert.deepEqual(at(6), ['FG_REQUIRED:1:Name']);
  assert.deepEqual(at(7), ['FG_DATE:7:Date of Birth']);
  assert.deepEqual(at(8), ['FG_EMAIL:2:Email']);
  assert.deepEqual(at(10), ['FG_UNKNOWN_REF:5:Manager Email']);
  assert.deepEqual(at(11), ['FG_DUP_IN_FILE:3:Employee ID']);
  assert.deepEqual(at(12), ['FG_DUP_IN_FILE:3:Employee ID']);
  assert.deepEqual(at(13), ['FG_DUP_IN_FILE:2:Email', 'FG_DUP_IN_FILE:3:Employee ID']);
  assert.match(errors.find((m) => m.line === 7)!.message, /^Date of Birth is not a real date/);
  assert.match(errors.find((m) => m.line === 11)!.message, /^Employee ID E90010 appears on lines 11, 12 with different data/);
  assert.ok(!errors.some((m) => m.message.includes('13/45/1990')), 'birth dates are not echoed');

  // The text output of `files show` says the same: line, column, field, code.
  const shown = await server.cli('files', 'show', f.id);
  assert.equal(shown.code, 0, shown.stderr);
  const printed = shown.stdout.split('\n').map((l) => l.trim());
  assert.ok(printed.includes('line 3  column 5  field Manager Email  error  FG_UNKNOWN_REF  bob@nectar-customer.example  Manager Email is neither an accepted employee of this file nor a known employee'),
    shown.stdout);
  assert.ok(printed.some((l) => l.startsWith('line 11  column 3  field Employee ID  error  FG_DUP_IN_FILE  hal1@nectar-customer.example  ')), shown.stdout);
});

test('full sync (deactivateMissing): employees missing from the upload are deactivated', { skip }, async () => {
  const set = await server.cli('account', 'update', 'nectar', '--deactivate-missing', 'on');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /deactivate-missing on/);
  const lines = readFileSync(join(FIXTURES, 'dropbox', 'employees.csv'), 'utf8').trim().split(/\r?\n/).slice(0, 11);
  const f = await uploadAndWait(server, 'nectar', key, csv('full-sync.csv', lines), '/');
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  const employees = await directory<Employee>(server, 'employees', 'nectar');
  const active = employees.filter((e) => e.active).map((e) => e.technicalId).sort();
  assert.deepEqual(active, ['E00001', 'E00002', 'E00003', 'E00004', 'E00005', 'E00006', 'E00007', 'E00008', 'E00009', 'E00010']);
  assert.equal(employees.length, 43, 'deactivated, never deleted');
  // E00001 was updated (its e-mail comes back), 33 others deactivated.
  assert.equal(f.outcome?.counts?.updated, 34);
  assert.ok(employees.filter((e) => !e.active).every((e) => e.departureDate !== null));
});

test('an exchange-dialect file uploaded to a drop-box account is rejected with FG_SEPARATOR', { skip }, async () => {
  const f = await uploadAndWait(server, 'nectar', key, renamedCopy(join(FIXTURES, 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv'), 'orgs.csv'), '/');
  assert.equal(f.state, 'rejected');
  assert.equal(f.outcome?.code, 'FG_SEPARATOR');
  assert.match(f.outcome?.summary ?? '', /semicolon/);
});
