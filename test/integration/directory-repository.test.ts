import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../core/store/database';
import { MIGRATIONS } from '../../core/store/migrations';
import { DirectoryRepository } from '../../core/store/directory-repository';
import { ABSENT_FIELDS, type AbsentFields, type Employee, type Organization } from '../../core/plugin-api';

function openRepo() {
  const file = join(mkdtempSync(join(tmpdir(), 'fg-dir-')), 'fluxgate.db');
  const db = openDatabase(file);
  return { db, file, repo: new DirectoryRepository(db) };
}

const employee = (over: Partial<Employee> = {}): Employee => ({
  organizationCode: 'ACME-FR', registrationReference: '000042', technicalId: 'T42', email: 'Anna.Muller@acme.example',
  lastname: 'Müller', firstname: 'Anna', active: true, departureDate: null, attributes: { city: 'Paris', country: 'FR' }, ...over,
});

test('the migration creates the directory tables in a real SQLite file', () => {
  const { db } = openRepo();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'dir_%' ORDER BY name").pluck().all();
  assert.deepEqual(tables, ['dir_attribute_shapes', 'dir_documents', 'dir_employees', 'dir_organizations', 'dir_users']);
  db.close();
});

test('upsert reports created, unchanged, updated; attribute order does not matter', () => {
  const { repo, db } = openRepo();
  assert.equal(repo.upsertEmployee('acme', employee()), 'created');
  assert.equal(repo.upsertEmployee('acme', employee({ attributes: { country: 'FR', city: 'Paris' } })), 'unchanged');
  assert.equal(repo.upsertEmployee('acme', employee({ active: false, departureDate: '2026-12-31' })), 'updated');
  const stored = repo.getEmployee('acme', 'ACME-FR', '000042')!;
  assert.equal(stored.active, false);
  assert.equal(stored.departureDate, '2026-12-31');
  assert.equal(db.prepare('SELECT active FROM dir_employees').pluck().get(), 0);
  db.close();
});

test('createEmployee adds only new keys; updateEmployee changes only existing ones', () => {
  const { repo, db } = openRepo();
  assert.equal(repo.updateEmployee('acme', employee()), undefined, 'no employee has the key yet');
  assert.equal(repo.createEmployee('acme', employee(), { dryRun: true }), true);
  assert.equal(repo.listEmployees('acme').length, 0, 'a dry run writes nothing');
  assert.equal(repo.createEmployee('acme', employee(), { sourceFile: 'f1' }), true);
  assert.equal(repo.createEmployee('acme', employee({ lastname: 'Martin' })), false);
  assert.equal(repo.createEmployee('acme', employee(), { dryRun: true }), false);
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '000042')!.lastname, 'Müller', 'an existing key is left as it is');
  const replaced: string[] = [];
  assert.equal(repo.updateEmployee('acme', employee({ attributes: { country: 'FR', city: 'Paris' } })), 'unchanged');
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'Martin' }), { dryRun: true }), 'updated');
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'Martin' }), { onReplaced: (json) => replaced.push(json) }), 'updated');
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '000042')!.lastname, 'Martin');
  assert.equal((JSON.parse(replaced[0]!) as Employee).lastname, 'Müller', 'onReplaced receives the row as it was');
  db.close();
});

test('an employee marked with ABSENT_FIELDS: new keys take its values, existing ones keep the absent fields', () => {
  const { repo, db } = openRepo();
  const partial = (over: Partial<Employee>, absent: AbsentFields): Employee => ({ ...employee(over), [ABSENT_FIELDS]: absent });
  const none: AbsentFields = { core: ['technicalId', 'active', 'departureDate'], attributes: ['city'] };
  // A new key: stored as given (the plugin's defaults for the absent fields), the marker ignored.
  assert.equal(repo.createEmployee('acme', partial({ technicalId: null, attributes: { city: null, country: 'FR' } }, none)), true);
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), employee({ technicalId: null, attributes: { city: null, country: 'FR' } }));

  // The stored employee, whole (no marker: replaces everything, attributes included).
  const full = employee({ active: false, departureDate: '2026-03-31', attributes: { city: 'Paris', country: 'FR', badge: 'B-7' } });
  assert.equal(repo.upsertEmployee('acme', full), 'updated');
  // Absent fields and attributes, and stored attributes it does not hold (badge): kept. Same values otherwise: unchanged.
  const same = partial({ technicalId: null, active: true, departureDate: null, attributes: { city: null, country: 'FR' } }, none);
  assert.equal(repo.updateEmployee('acme', same), 'unchanged');
  assert.equal(repo.upsertEmployee('acme', same, { dryRun: true }), 'unchanged');
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), full);
  // A present field changes (null clears); absent ones still stay.
  const replaced: string[] = [];
  const changed = partial({ email: null, active: true, attributes: { city: null, country: 'DE' } }, none);
  assert.equal(repo.upsertEmployee('acme', changed, { dryRun: true }), 'updated');
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), full, 'a dry run writes nothing');
  assert.equal(repo.updateEmployee('acme', changed, { onReplaced: (json) => replaced.push(json) }), 'updated');
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'),
    { ...full, email: null, attributes: { city: 'Paris', country: 'DE', badge: 'B-7' } });
  // onReplaced's JSON restores the row whole, as it was.
  assert.equal(repo.upsertEmployee('acme', JSON.parse(replaced[0]!) as Employee), 'updated');
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), full);
  // Without the marker, the same employee replaces the stored one: badge gone, active again.
  assert.equal(repo.upsertEmployee('acme', employee({ technicalId: null, attributes: { city: null, country: 'FR' } })), 'updated');
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), employee({ technicalId: null, attributes: { city: null, country: 'FR' } }));
  db.close();
});

test('rows are per account: the same key in two accounts is two rows', () => {
  const { repo, db } = openRepo();
  assert.equal(repo.upsertEmployee('acme', employee()), 'created');
  assert.equal(repo.upsertEmployee('globex', employee()), 'created');
  assert.equal(repo.getEmployee('initech', 'ACME-FR', '000042'), undefined);
  assert.equal(repo.listEmployees('acme').length, 1);
  assert.equal(repo.findEmployees('globex', { technicalId: 'T42' }).length, 1);
  assert.equal(repo.findEmployees('initech', { technicalId: 'T42' }).length, 0);
  db.close();
});

test('employees are found by technical id and by e-mail ignoring case', () => {
  const { repo, db } = openRepo();
  repo.upsertEmployee('acme', employee());
  assert.equal(repo.findEmployees('acme', { email: 'anna.muller@ACME.example' })[0]!.registrationReference, '000042');
  assert.equal(repo.findEmployees('acme', { technicalId: 'T42' })[0]!.lastname, 'Müller');
  assert.deepEqual(repo.findEmployees('acme', { technicalId: 'nope' }), []);
  db.close();
});

test('dry runs say what would happen and change nothing', () => {
  const { repo, db } = openRepo();
  assert.equal(repo.upsertEmployee('acme', employee(), { dryRun: true }), 'created');
  assert.equal(repo.listEmployees('acme').length, 0);
  repo.upsertEmployee('acme', employee());
  assert.equal(repo.upsertEmployee('acme', employee({ lastname: 'Martin' }), { dryRun: true }), 'updated');
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '000042')!.lastname, 'Müller');
  db.close();
});

test('a transaction applies all or nothing', () => {
  const { repo, db } = openRepo();
  const org: Organization = { code: 'ACME', name: 'Acme', parentCode: null, attributes: {} };
  assert.throws(() => repo.transaction(() => {
    repo.upsertOrganization('acme', org);
    throw new Error('boom');
  }), /boom/);
  assert.equal(repo.listOrganizations('acme').length, 0);
  repo.transaction(() => repo.upsertOrganization('acme', org));
  assert.deepEqual(repo.getOrganization('acme', 'ACME'), org);
  db.close();
});

test('users and documents round-trip; a second connection sees committed rows', () => {
  const { repo, db, file } = openRepo();
  repo.upsertUser('acme', { login: 'hr.admin1', email: 'a@acme.example', firstname: 'A', lastname: 'B', profileCode: 'HR_ADMIN', organizationCodes: ['ACME-FR', 'ACME-DE'], attributes: { language: 'fr-fr' } });
  repo.upsertDocument('acme', { externalReference: 'PAY-1', title: 'Payslip', documentDate: '2026-10-31', organizationCode: 'ACME-FR', registrationReference: '000042', vaultPath: 'vault/documents/ab.pdf', sha256: 'ab', size: 10, attributes: {} });
  const other = new DirectoryRepository(openDatabase(file));
  assert.deepEqual(other.getUser('acme', 'hr.admin1')!.organizationCodes, ['ACME-FR', 'ACME-DE']);
  assert.equal(other.listDocuments('acme')[0]!.vaultPath, 'vault/documents/ab.pdf');
  assert.equal(db.prepare('SELECT organization_codes FROM dir_users').pluck().get(), '["ACME-FR","ACME-DE"]');
  db.close();
});

test('staging: conflicting keys with all their lines, rows back in order across pages', () => {
  const { repo, db } = openRepo();
  const staging = repo.createStaging();
  for (let i = 0; i < 2500; i++) staging.add(i + 2, `K${i}`, `{"i":${i}}`);
  staging.add(3000, 'K7', '{"i":7}'); // same data again: not a conflict
  staging.add(3001, 'K9', '{"i":"different"}');
  assert.equal(staging.size, 2502);
  assert.deepEqual(staging.conflicts(), [{ key: 'K9', lines: [11, 3001] }]);
  const lines = [...staging.rows(1000)].map((r) => r.line);
  assert.equal(lines.length, 2502);
  assert.deepEqual(lines.slice(0, 3), [2, 3, 4]);
  assert.equal(lines.at(-1), 3001);
  // Writes between pages are allowed (the connection is not held by an open iterator).
  let n = 0;
  for (const row of staging.rows(500)) {
    if (n++ % 500 === 0) repo.upsertOrganization('acme', { code: row.key, name: 'x', parentCode: null, attributes: {} });
  }
  assert.equal(repo.listOrganizations('acme').length, 6);
  staging.drop();
  assert.equal(db.prepare("SELECT COUNT(*) FROM temp.sqlite_master WHERE name LIKE 'staging_%' AND type = 'table'").pluck().get(), 0);
  db.close();
});

test('migration 005 keeps existing employees: whole-entity rows become columns + attributes', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'fg-dir-')), 'fluxgate.db');
  const before = openDatabase(file, MIGRATIONS.filter((m) => m.version < 5));
  const old = employee({ attributes: { city: 'Paris', country: 'FR', custom_badge: '0042' } });
  before.prepare(`INSERT INTO dir_employees (account_id, organization_code, registration_reference, technical_id, email, lastname, firstname,
    active, departure_date, data, source_file, created_at, updated_at) VALUES ('acme', ?, ?, ?, ?, ?, ?, 1, NULL, ?, 'f1', 1, 2)`)
    .run(old.organizationCode, old.registrationReference, old.technicalId, old.email, old.lastname, old.firstname, JSON.stringify(old));
  before.close();

  const db = openDatabase(file);
  const repo = new DirectoryRepository(db);
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), old);
  assert.deepEqual(JSON.parse(db.prepare('SELECT data FROM dir_employees').pluck().get() as string), old.attributes);
  assert.deepEqual(repo.findEmployees('acme', { technicalId: 'T42' }), [old]);
  assert.deepEqual(repo.findEmployees('acme', { email: 'anna.muller@ACME.example' }), [old]);
  assert.equal(repo.upsertEmployee('acme', old), 'unchanged');
  db.close();
});
