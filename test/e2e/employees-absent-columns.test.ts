import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from '../helpers/tools';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import type { Employee, ReportMessage } from '../../core/plugin-api';
import { addAccount, directory, FIXTURES, renamedCopy, reportLines, uploadAndWait, uploadOrganizations } from './fixtures-support';

// A file that lacks an optional column says nothing about that field: the employees it updates
// keep their stored value (core fields, attributes, custom fields); an empty value in a column
// that is there clears the field. Sal files on an exchange account, and the audit's drop-box
// scenario (a full-sync account, an XLSX export then a CSV of three columns), over SFTP.
const skip = skipUnless('sftp', 'ssh-keygen');
const dir = mkdtempSync(join(tmpdir(), 'fg-absent-'));
let server: TestServer;
let acme: TestKey;
let hris: TestKey;

before(async () => {
  if (skip) return;
  server = new TestServer();
  await server.start();
  acme = await addAccount(server, 'acme');
  hris = await addAccount(server, 'hris', 'dropbox');
  await uploadOrganizations(server, 'acme', acme);
});
after(async () => { await server?.cleanup(); });

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\r\n') + '\r\n');
  return path;
}

async function employees(account: string): Promise<Map<string, Employee>> {
  return new Map((await directory<Employee>(server, 'employees', account)).map((e) => [e.registrationReference, e]));
}

const FULL = 'organization_code;registration_reference;technical_id;lastname;firstname;maiden_name;birth_date;professional_email;starting_date;active;departure_date;gone;disable_vault;cost_center';

test('sal: a file without some columns keeps the stored values; an empty value in a present column clears', { skip }, async () => {
  const first = await uploadAndWait(server, 'acme', acme, file('ndmat_acme_acme_sal_hrmanager_v6_261121120000.csv', [
    FULL,
    'ACME-FR;A001;T-001;Durand;Paul;Lenoir;1980-01-01;p.durand@acme.example;2020-01-01;true;;false;true;CC-1',
    'ACME-FR;A002;T-002;Martin;Lea;;1985-05-05;l.martin@acme.example;2019-03-01;false;2026-01-31;false;false;CC-2', // a leaver
    'ACME-FR;A003;T-003;Petit;Jean;;1990-09-09;j.petit@acme.example;2021-06-01;true;;false;false;CC-3',
  ]), 'in/sal/');
  assert.equal(first.state, 'processed', JSON.stringify(first.outcome));
  assert.deepEqual({ ...first.outcome?.counts }, { created: 3, updated: 0, unchanged: 0, rejected: 0 });
  const stored = await employees('acme');

  // The same people, with the required columns and the e-mail only; and a new employee, twice.
  const fewer = await uploadAndWait(server, 'acme', acme, file('ndmat_acme_acme_sal_hrmanager_v6_261121120100.csv', [
    'organization_code;registration_reference;lastname;firstname;professional_email',
    'ACME-FR;A001;Durand;Paul;p.durand@acme.example',
    'ACME-FR;A002;Martin;Lea;l.martin@acme.example',
    'ACME-FR;A003;Petit;Jean;j.petit@acme.example',
    'ACME-FR;A004;Neuf;Nina;n.neuf@acme.example',
    'ACME-FR;A004;Neuf;Nina;n.neuf@acme.example',
    'ACME-FR;A003;Petit;Jean;j.petit@acme.example',
  ]), 'in/sal/');
  assert.equal(fewer.state, 'processed', JSON.stringify(fewer.outcome));
  assert.deepEqual({ ...fewer.outcome?.counts }, { created: 1, updated: 0, unchanged: 5, rejected: 0 },
    'fewer columns with the same values: unchanged; a key repeated identically (new or stored): unchanged again');
  const after = await employees('acme');
  for (const ref of ['A001', 'A002', 'A003']) assert.deepEqual(after.get(ref), stored.get(ref), `${ref} is as the first file left it`);
  const leaver = after.get('A002')!;
  assert.deepEqual([leaver.active, leaver.departureDate], [false, '2026-01-31'], 'an absent active column does not reactivate a leaver');
  assert.equal(after.get('A001')!.technicalId, 'T-001');
  assert.equal(after.get('A001')!.attributes.birth_date, '1980-01-01');
  assert.equal(after.get('A001')!.attributes.cost_center, 'CC-1', 'a custom field absent from the file is kept');
  assert.equal(after.get('A001')!.attributes.disable_vault, true);
  // A new employee gets what a full file with empty values would give it.
  const created = after.get('A004')!;
  assert.deepEqual([created.technicalId, created.active, created.departureDate], [null, true, null]);
  assert.deepEqual([created.attributes.birth_date, created.attributes.gone, created.attributes.disable_vault], [null, false, false]);
  assert.equal('cost_center' in created.attributes, false);

  // Present columns with empty values clear; a changed value updates; what is absent stays.
  const cleared = await uploadAndWait(server, 'acme', acme, file('ndmat_acme_acme_sal_hrmanager_v6_261121120200.csv', [
    'organization_code;registration_reference;lastname;firstname;professional_email;technical_id;birth_date;cost_center;gone',
    'ACME-FR;A001;Durand;Paul;p.durand@acme.example;;;;false',
    'ACME-FR;A003;Petit-Grand;Jean;j.petit@acme.example;T-003;1990-09-09;CC-3;true',
  ]), 'in/sal/');
  assert.deepEqual({ ...cleared.outcome?.counts }, { created: 0, updated: 2, unchanged: 0, rejected: 0 });
  const last = await employees('acme');
  const a1 = last.get('A001')!;
  assert.deepEqual([a1.technicalId, a1.attributes.birth_date, a1.attributes.cost_center], [null, null, null], 'empty values in present columns clear');
  assert.deepEqual([a1.attributes.maiden_name, a1.attributes.starting_date, a1.attributes.disable_vault, a1.active], ['Lenoir', '2020-01-01', true, true]);
  const a3 = last.get('A003')!;
  assert.deepEqual([a3.lastname, a3.active, a3.attributes.gone, a3.technicalId], ['Petit-Grand', false, true, 'T-003'], 'gone=true makes a leaver without an active column');
  assert.equal(a3.attributes.starting_date, '2021-06-01');
  assert.deepEqual(last.get('A002'), leaver, 'an employee missing from the file is left alone');
  const report = reportLines(server, 'acme', cleared);
  assert.deepEqual(report.filter((l) => l.severity === 'error'), []);
});

const REPORT_EVENTS = async (id: string): Promise<ReportMessage[]> => {
  const r = await server.cli('files', 'show', id, '--json');
  const shown = JSON.parse(r.stdout) as { events: Array<{ type: string; messages?: ReportMessage[] }> };
  return shown.events.filter((e) => e.type === 'report').flatMap((e) => e.messages ?? []);
};

test('drop-box full sync: a CSV of Name, Email and Employee ID keeps what an earlier XLSX said', { skip }, async () => {
  const set = await server.cli('account', 'update', 'hris', '--deactivate-missing', 'on');
  assert.equal(set.code, 0, set.stderr);
  const xlsx = await uploadAndWait(server, 'hris', hris, renamedCopy(join(FIXTURES, 'records', 'employees.xlsx'), 'export-1.xlsx'), '/');
  assert.equal(xlsx.state, 'processed', JSON.stringify(xlsx.outcome));
  assert.deepEqual({ ...xlsx.outcome?.counts }, { created: 41, updated: 0, unchanged: 0, rejected: 0 });
  const before = new Map((await directory<Employee>(server, 'employees', 'hris')).map((e) => [e.technicalId, e]));
  assert.equal(before.get('E00001')!.attributes.start_date, '2024-08-01');

  // The first ten employees of the fixture, three columns only.
  const ten = readFileSync(join(FIXTURES, 'dropbox', 'employees.csv'), 'utf8').trim().split(/\r?\n/).slice(1, 11)
    .map((l) => l.split(',').slice(0, 3).join(','));
  const csv = await uploadAndWait(server, 'hris', hris, file('three-columns.csv', ['Name,Email,Employee ID', ...ten]), '/');
  assert.equal(csv.state, 'processed', JSON.stringify(csv.outcome));
  assert.deepEqual({ ...csv.outcome?.counts }, { created: 0, updated: 31, unchanged: 10, rejected: 0 },
    'the ten in the file are unchanged; the 31 others are deactivated');
  const after = new Map((await directory<Employee>(server, 'employees', 'hris')).map((e) => [e.technicalId, e]));
  for (let i = 1; i <= 10; i++) {
    const id = `E${String(i).padStart(5, '0')}`;
    assert.deepEqual(after.get(id), before.get(id), `${id} keeps its start date, birth date, manager, department…`);
  }
  assert.equal(after.get('E00001')!.attributes.start_date, '2024-08-01');
  assert.equal(after.get('E00002')!.attributes.manager_email, 'person1@nectar-customer.example');
  const gone = after.get('E00011')!;
  assert.deepEqual([gone.active, gone.attributes.start_date], [false, before.get('E00011')!.attributes.start_date], 'deactivated, the rest kept');

  // Another spelling of the header, no Employee ID: matched by e-mail, the ID kept; an empty
  // Department clears it; a bad e-mail is reported under the header as this file writes it.
  const other = await uploadAndWait(server, 'hris', hris, file('other-header.csv', [
    'EMAIL,full_name,NAME,department',
    'person1@nectar-customer.example,x,João Kowalski,',
    'person2@nectar-customer.example,x,Oğuz Lefèvre,Sales',
    'not-an-address,x,Bad Row,Ops',
  ]), '/');
  assert.equal(other.state, 'processed', JSON.stringify(other.outcome));
  assert.deepEqual({ ...other.outcome?.counts }, { created: 0, updated: 10, unchanged: 0, rejected: 1 }, 'two changed, eight deactivated');
  const now = new Map((await directory<Employee>(server, 'employees', 'hris')).map((e) => [e.technicalId, e]));
  const p1 = now.get('E00001')!;
  assert.deepEqual([p1.attributes.department, p1.attributes.start_date, p1.attributes.office_location, p1.active], [null, '2024-08-01', 'Austin', true]);
  assert.deepEqual([now.get('E00002')!.attributes.department, now.get('E00002')!.attributes.date_of_birth], ['Sales', '1990-01-03']);
  assert.equal(now.get('E00002')!.attributes.full_name, undefined, 'drop-box keeps only its own columns');
  const errors = (await REPORT_EVENTS(other.id)).filter((m) => m.severity === 'error' && m.code);
  assert.deepEqual(errors.map((m) => [m.line, m.column, m.field, m.code]), [[4, 1, 'EMAIL', 'FG_EMAIL']]);
  assert.match(errors[0].message, /^EMAIL is not an e-mail address/);
});
