import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from '../helpers/tools';
import { TestServer } from '../helpers/server';
import type { TestKey } from '../helpers/keys';
import type { Employee, Organization } from '../../core/plugin-api';
import { addAccount, directory, reportLines, uploadAndWait, type ReportLine, uploadOrganizations } from './fixtures-support';

// Each row-level error code, produced by the real handlers on files uploaded over SFTP:
// the row is rejected with line, column, field and code; the rest of the file applies.
const skip = skipUnless('sftp', 'ssh-keygen');
const dir = mkdtempSync(join(tmpdir(), 'fg-rows-'));
let server: TestServer;
let key: TestKey;

const SAL_HEADER = 'organization_code;registration_reference;technical_id;lastname;firstname;maiden_name;birth_date;professional_email;address1;address2;address3;zip_code;city;country;phone_number;mobile_phone_number;starting_date;active;departure_date;gone;disable_vault;disable_elec_distribution;disable_paper_distribution;saml_token;cost_center';
function salRow(over: Record<string, string>): string {
  const base: Record<string, string> = {
    organization_code: 'ACME-FR', registration_reference: '100', technical_id: '', lastname: 'Durand', firstname: 'Paul', maiden_name: '',
    birth_date: '1980-01-01', professional_email: 'p.durand@acme.example', address1: '', address2: '', address3: '', zip_code: '', city: '',
    country: '', phone_number: '', mobile_phone_number: '', starting_date: '2020-01-01', active: 'true', departure_date: '', gone: 'false',
    disable_vault: 'false', disable_elec_distribution: 'false', disable_paper_distribution: 'false', saml_token: '', cost_center: 'CC-7',
  };
  const row = { ...base, ...over };
  return SAL_HEADER.split(';').map((c) => row[c]).join(';');
}

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\r\n') + '\r\n');
  return path;
}

const find = (report: ReportLine[], line: number) => report.filter((l) => l.line === String(line) && l.severity === 'error' && l.code);

before(async () => {
  if (skip) return;
  server = new TestServer();
  await server.start();
  key = await addAccount(server, 'acme');
  await uploadOrganizations(server, 'acme', key);
});
after(async () => { await server?.cleanup(); });

test('sal: every row-level code on its row; valid rows and custom columns apply', { skip }, async () => {
  const path = file('ndmat_acme_acme_sal_hrmanager_v6_261121100000.csv', [
    SAL_HEADER,
    salRow({ registration_reference: '0100' }),                                       // 2 ok
    salRow({ registration_reference: '0101', lastname: '' }),                         // 3 FG_REQUIRED
    salRow({ registration_reference: '0102', firstname: 'X'.repeat(31) }),            // 4 FG_MAXLEN
    salRow({ registration_reference: '0103', birth_date: '1980-02-30' }),             // 5 FG_DATE
    salRow({ registration_reference: '0104', active: 'maybe' }),                      // 6 FG_BOOL
    salRow({ registration_reference: '0105', country: 'XX' }),                        // 7 FG_COUNTRY
    salRow({ registration_reference: '0106', professional_email: 'not-an-email' }),   // 8 FG_EMAIL
    salRow({ registration_reference: '0107', organization_code: 'ACME-XX' }),         // 9 FG_UNKNOWN_REF
    'ACME-FR;0108;;Short;Row',                                                        // 10 FG_FIELD_COUNT
    salRow({ registration_reference: '0109', professional_email: '', address1: '1 rue X', city: 'Paris' }), // 11 FG_REQUIRED (no e-mail, partial address)
    salRow({ registration_reference: '0110', departure_date: '2019-12-31' }),         // 12 FG_INVALID_VALUE
    salRow({ registration_reference: '0111', phone_number: '+33 1 23 45 67 89 '.repeat(4) }), // 13 FG_MAXLEN, value not echoed
    salRow({ registration_reference: '0112', professional_email: '', address1: '1 rue X', zip_code: '75001', city: 'Paris', country: 'fr' }), // 14 ok (address)
    salRow({ registration_reference: '0113', active: 'false', departure_date: '' }),  // 15 FG_REQUIRED departure_date
    salRow({ registration_reference: '0114', active: 'false', departure_date: '2030-06-30' }), // 16 ok: leaver in the future
  ]);
  const f = await uploadAndWait(server, 'acme', key, path, 'in/sal/');
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  const report = reportLines(server, 'acme', f);
  const expect: Array<[number, string, string, number]> = [
    [3, 'FG_REQUIRED', 'lastname', 4], [4, 'FG_MAXLEN', 'firstname', 5], [5, 'FG_DATE', 'birth_date', 7], [6, 'FG_BOOL', 'active', 18],
    [7, 'FG_COUNTRY', 'country', 14], [8, 'FG_EMAIL', 'professional_email', 8], [9, 'FG_UNKNOWN_REF', 'organization_code', 1],
    [11, 'FG_REQUIRED', 'professional_email', 8], [12, 'FG_INVALID_VALUE', 'departure_date', 19], [13, 'FG_MAXLEN', 'phone_number', 15],
    [15, 'FG_REQUIRED', 'departure_date', 19],
  ];
  for (const [line, code, field, column] of expect) {
    const errors = find(report, line);
    assert.equal(errors.length, 1, `line ${line}: ${JSON.stringify(errors)}`);
    assert.deepEqual([errors[0].code, errors[0].field, errors[0].column], [code, field, String(column)], `line ${line}`);
  }
  assert.equal(find(report, 10)[0].code, 'FG_FIELD_COUNT');
  // Rejections are decided while the file streams, creations at its end: the report is in line order.
  const lines = report.map((l) => Number(l.line));
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b), 'report lines in file order');
  assert.deepEqual(report.filter((l) => l.line === '2').map((l) => l.message), ['created']);
  assert.ok(!report.some((l) => l.message.includes('1980-02-30') || l.message.includes('+33')), 'birth dates and phone numbers are not echoed');
  assert.deepEqual({ ...f.outcome?.counts }, { created: 3, updated: 0, unchanged: 0, rejected: 12 });
  const employees = await directory<Employee>(server, 'employees', 'acme');
  assert.deepEqual(employees.map((e) => e.registrationReference).sort(), ['0100', '0112', '0114']);
  const e100 = employees.find((e) => e.registrationReference === '0100')!;
  assert.equal(e100.attributes.cost_center, 'CC-7', 'an unknown column is kept as a custom field');
  assert.equal(employees.find((e) => e.registrationReference === '0112')!.attributes.country, 'FR');
  const future = employees.find((e) => e.registrationReference === '0114')!;
  assert.deepEqual([future.active, future.departureDate], [false, '2030-06-30']);
});

test('sal: an employee missing from a later file is not a leaver; a changed row is updated', { skip }, async () => {
  const path = file('ndmat_acme_acme_sal_hrmanager_v6_261121100100.csv', [SAL_HEADER, salRow({ registration_reference: '0100', lastname: 'Durand-Martin' })]);
  const f = await uploadAndWait(server, 'acme', key, path, 'in/sal/');
  assert.deepEqual({ ...f.outcome?.counts }, { created: 0, updated: 1, unchanged: 0, rejected: 0 });
  const employees = await directory<Employee>(server, 'employees', 'acme');
  assert.equal(employees.find((e) => e.registrationReference === '0100')!.lastname, 'Durand-Martin');
  assert.equal(employees.find((e) => e.registrationReference === '0112')!.active, true);
});

test('sal: conflicting rows undo what the first one applied (update restored, creation removed)', { skip }, async () => {
  const path = file('ndmat_acme_acme_sal_hrmanager_v6_261121100150.csv', [
    SAL_HEADER,
    salRow({ registration_reference: '0100', lastname: 'Changed-Once' }),  // 2 would update 0100…
    salRow({ registration_reference: '0200', lastname: 'New' }),           // 3 would create 0200…
    salRow({ registration_reference: '0201', lastname: 'Kept' }),          // 4 ok
    salRow({ registration_reference: '0201', lastname: 'Kept' }),          // 5 the same row again: unchanged
    salRow({ registration_reference: '0100', lastname: 'Changed-Twice' }), // 6 …conflicts with line 2
    salRow({ registration_reference: '0200', lastname: 'Other' }),         // 7 …conflicts with line 3
  ]);
  const f = await uploadAndWait(server, 'acme', key, path, 'in/sal/');
  assert.deepEqual({ ...f.outcome?.counts }, { created: 1, updated: 0, unchanged: 1, rejected: 4 });
  const report = reportLines(server, 'acme', f);
  const dups = report.filter((l) => l.code === 'FG_DUP_IN_FILE');
  assert.deepEqual(dups.map((l) => l.line).sort(), ['2', '3', '6', '7']);
  assert.ok(dups.every((l) => l.field === 'registration_reference' && l.column === '2'), JSON.stringify(dups));
  const employees = await directory<Employee>(server, 'employees', 'acme');
  assert.equal(employees.find((e) => e.registrationReference === '0100')!.lastname, 'Durand-Martin', 'the update was undone');
  assert.equal(employees.find((e) => e.registrationReference === '0200'), undefined, 'the creation was undone');
  assert.equal(employees.find((e) => e.registrationReference === '0201')!.lastname, 'Kept');
});

test('sir: child before parent, own parent, cycles, unknown and rejected parents, duplicates', { skip }, async () => {
  const header = 'organization_code;name;parent_organization_code';
  const path = file('ndmat_acme_acme_sir_hrmanager_v6_261121100200.csv', [
    header,
    'N-CHILD;Child first;N-PARENT',   // 2 ok: its parent comes later
    'N-PARENT;Parent;ACME',           // 3 ok: parent already in the directory
    'N-SELF;Self;N-SELF',             // 4 FG_CYCLE
    'N-LOOP1;Loop 1;N-LOOP2',         // 5 FG_CYCLE
    'N-LOOP2;Loop 2;N-LOOP1',         // 6 FG_CYCLE
    'N-ORPHAN;Orphan;N-NOWHERE',      // 7 FG_UNKNOWN_REF
    'N-GRANDCHILD;Grandchild;N-ORPHAN', // 8 FG_UNKNOWN_REF (its parent is rejected)
    'N-DUP;Dup one;ACME',             // 9 FG_DUP_IN_FILE
    'N-DUP;Dup two;ACME',             // 10 FG_DUP_IN_FILE
    ';No code;ACME',                  // 11 FG_REQUIRED
  ]);
  const f = await uploadAndWait(server, 'acme', key, path, 'in/sir/');
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  const report = reportLines(server, 'acme', f);
  const codeAt = (line: number) => find(report, line).map((l) => l.code);
  assert.deepEqual(codeAt(4), ['FG_CYCLE']);
  assert.deepEqual(codeAt(5), ['FG_CYCLE']);
  assert.deepEqual(codeAt(6), ['FG_CYCLE']);
  assert.deepEqual(codeAt(7), ['FG_UNKNOWN_REF']);
  assert.deepEqual(codeAt(8), ['FG_UNKNOWN_REF']);
  assert.deepEqual(codeAt(9), ['FG_DUP_IN_FILE']);
  assert.deepEqual(codeAt(10), ['FG_DUP_IN_FILE']);
  assert.deepEqual(codeAt(11), ['FG_REQUIRED']);
  assert.deepEqual(codeAt(2), []);
  const columnAt = (line: number) => find(report, line).map((l) => `${l.field}@${l.column}`);
  for (const line of [4, 5, 6, 7, 8]) assert.deepEqual(columnAt(line), ['parent_organization_code@3'], `line ${line}`);
  for (const line of [9, 10]) assert.deepEqual(columnAt(line), ['organization_code@1'], `line ${line}`);
  // A row without a code has no entity id: it still gets its `rejected` line.
  assert.deepEqual(report.filter((l) => l.line === '11' && !l.code).map((l) => [l.severity, l.message]), [['error', 'rejected']]);
  const orgs = await directory<Organization>(server, 'organizations', 'acme');
  const codes = orgs.map((o) => o.code).filter((c) => c.startsWith('N-')).sort();
  assert.deepEqual(codes, ['N-CHILD', 'N-PARENT']);
});

test('usr: unknown profile, unknown organization in a list, bad e-mail, duplicate login', { skip }, async () => {
  const header = 'login;email;firstname;lastname;profile_code;organization_code;phone_number;mobile_phone_number;language;saml_token';
  const path = file('ndmat_acme_acme_usr_hrmanager_v6_261121100300.csv', [
    header,
    'u.ok;u.ok@acme.example;Ada;Lovelace;PAYROLL;ACME-FR|ACME-DE;;;FR_fr;',  // 2 ok
    'u.profile;u.p@acme.example;Ada;Lovelace;CEO;ACME-FR;;;;',               // 3 FG_INVALID_VALUE
    'u.org;u.o@acme.example;Ada;Lovelace;PAYROLL;ACME-FR|ACME-MARS;;;;',     // 4 FG_UNKNOWN_REF
    'u.mail;not-mail;Ada;Lovelace;PAYROLL;ACME-FR;;;;',                      // 5 FG_EMAIL
    'u.dup;u.d1@acme.example;Ada;Lovelace;PAYROLL;ACME-FR;;;;',              // 6 FG_DUP_IN_FILE
    'u.dup;u.d2@acme.example;Ada;Lovelace;PAYROLL;ACME-FR;;;;',              // 7 FG_DUP_IN_FILE
    'u.gap;u.g@acme.example;Ada;Lovelace;PAYROLL;ACME-FR||ACME-DE;;;;',      // 8 FG_INVALID_VALUE (an empty element)
  ]);
  const f = await uploadAndWait(server, 'acme', key, path, 'in/usr/');
  const report = reportLines(server, 'acme', f);
  assert.deepEqual([3, 4, 5, 6, 7, 8].map((l) => find(report, l).map((e) => e.code).join()),
    ['FG_INVALID_VALUE', 'FG_UNKNOWN_REF', 'FG_EMAIL', 'FG_DUP_IN_FILE', 'FG_DUP_IN_FILE', 'FG_INVALID_VALUE']);
  assert.match(find(report, 8)[0].message, /empty element in its \|-separated list \(element 2 of 3\)/);
  assert.match(find(report, 4)[0].message, /ACME-MARS/);
  assert.deepEqual([6, 7].map((l) => find(report, l).map((e) => `${e.field}@${e.column}`).join()), ['login@1', 'login@1']);
  const users = await directory<{ login: string; attributes: { language: string } }>(server, 'users', 'acme');
  assert.deepEqual(users.map((u) => u.login), ['u.ok']);
  assert.equal(users[0].attributes.language, 'fr-fr');
});
