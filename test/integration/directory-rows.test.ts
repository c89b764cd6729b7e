import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../core/store/database';
import { MIGRATIONS } from '../../core/store/migrations';
import { SqliteDirectoryRows } from '../../core/store/directory-rows';
import { ABSENT_FIELDS, type AbsentFields, type Employee, type Organization } from '../../core/plugin-api';

function openRepo() {
  const file = join(mkdtempSync(join(tmpdir(), 'fg-dir-')), 'fluxgate.db');
  const db = openDatabase(file);
  return { db, file, repo: new SqliteDirectoryRows(db) };
}

const employee = (over: Partial<Employee> = {}): Employee => ({
  organizationCode: 'ACME-FR', registrationReference: '000042', technicalId: 'T42', email: 'Anna.Muller@acme.example',
  lastname: 'Müller', firstname: 'Anna', active: true, departureDate: null, attributes: { city: 'Paris', country: 'FR' }, ...over,
});

test('the migration creates the directory tables in a real SQLite file', () => {
  const { db } = openRepo();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'dir_%' ORDER BY name").pluck().all();
  assert.deepEqual(tables, ['dir_attribute_shapes', 'dir_documents', 'dir_employee_versions', 'dir_employees', 'dir_organizations', 'dir_users']);
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
  assert.equal(repo.updateEmployee('acme', employee({ attributes: { country: 'FR', city: 'Paris' } })), 'unchanged');
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'Martin' }), { dryRun: true, sourceFile: 'f2', keepPrevious: true }), 'updated');
  assert.equal(repo.previousEmployee('acme', 'ACME-FR', '000042', 'f2'), undefined, 'a dry run keeps nothing');
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'Martin' }), { sourceFile: 'f2', keepPrevious: true }), 'updated');
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '000042')!.lastname, 'Martin');
  assert.equal(repo.previousEmployee('acme', 'ACME-FR', '000042', 'f2')!.lastname, 'Müller', 'keepPrevious keeps the row as it was');
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
  const changed = partial({ email: null, active: true, attributes: { city: null, country: 'DE' } }, none);
  assert.equal(repo.upsertEmployee('acme', changed, { dryRun: true }), 'updated');
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), full, 'a dry run writes nothing');
  assert.equal(repo.updateEmployee('acme', changed, { sourceFile: 'f1', keepPrevious: true }), 'updated');
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'),
    { ...full, email: null, attributes: { city: 'Paris', country: 'DE', badge: 'B-7' } });
  // The kept row restores the employee whole, as it was.
  assert.equal(repo.upsertEmployee('acme', repo.previousEmployee('acme', 'ACME-FR', '000042', 'f1')!), 'updated');
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
  assert.equal(repo.findEmployees('acme', { email: 'anna.muller@ACME.example' })[0].registrationReference, '000042');
  assert.equal(repo.findEmployees('acme', { technicalId: 'T42' })[0].lastname, 'Müller');
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
  const other = new SqliteDirectoryRows(openDatabase(file));
  assert.deepEqual(other.getUser('acme', 'hr.admin1')!.organizationCodes, ['ACME-FR', 'ACME-DE']);
  assert.equal(other.listDocuments('acme')[0].vaultPath, 'vault/documents/ab.pdf');
  assert.equal(db.prepare('SELECT organization_codes FROM dir_users').pluck().get(), '["ACME-FR","ACME-DE"]');
  db.close();
});

test('keepPrevious: the employee before the file, per file and key, kept in the update\'s transaction, until forgotten', () => {
  const { repo, db, file } = openRepo();
  const keep = (fileId: string) => ({ sourceFile: fileId, keepPrevious: true });
  const previous = (fileId: string, ref = '000042') => repo.previousEmployee('acme', 'ACME-FR', ref, fileId)?.lastname;
  assert.equal(repo.createEmployee('acme', employee(), keep('f0')), true);
  assert.equal(previous('f0'), undefined, 'creating a key keeps nothing');

  // File f1 changes the employee twice: the row before the file stays, not f1's own first write.
  assert.equal(repo.transaction(() => repo.updateEmployee('acme', employee({ lastname: 'A' }), keep('f1'))), 'updated');
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'B' }), keep('f1')), 'updated');
  assert.equal(previous('f1'), 'Müller');
  // Another file changes it (between two attempts of f1): f1's next write keeps that change.
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'Other' }), { sourceFile: 'g' }), 'updated');
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'A' }), keep('f1')), 'updated');
  assert.equal(previous('f1'), 'Other', 'undoing f1 must not undo what file g did');
  // Found unchanged: nothing kept. Per account and file: another file keeps its own.
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'A' }), keep('f2')), 'unchanged');
  assert.equal(previous('f2'), undefined);
  assert.equal(repo.updateEmployee('acme', employee({ lastname: 'C' }), keep('f2')), 'updated');
  assert.equal(previous('f2'), 'A');
  assert.equal(repo.previousEmployee('globex', 'ACME-FR', '000042', 'f1'), undefined);

  // Durable: another connection (a restarted server) reads it.
  const other = new SqliteDirectoryRows(openDatabase(file));
  assert.deepEqual(other.previousEmployee('acme', 'ACME-FR', '000042', 'f1'), employee({ lastname: 'Other' }));

  // A rolled back update keeps nothing either: both are in one transaction.
  repo.createEmployee('acme', employee({ registrationReference: '000043' }));
  assert.throws(() => repo.transaction(() => {
    repo.updateEmployee('acme', employee({ registrationReference: '000043', lastname: 'D' }), keep('f3'));
    throw new Error('rolled back');
  }), /rolled back/);
  assert.equal(previous('f3', '000043'), undefined);
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '000043')!.lastname, 'Müller');

  assert.equal(repo.forgetPrevious('acme', 'f1'), 1);
  assert.equal(previous('f1'), undefined);
  assert.equal(previous('f2'), 'A', 'forgetting one file leaves the others');

  // Misuse is a plugin bug: refused before anything is written.
  assert.throws(() => repo.updateEmployee('acme', employee({ lastname: 'E' }), { keepPrevious: true }), { code: 'FG_PLUGIN_INVALID' });
  assert.throws(() => repo.upsertOrganization('acme', { code: 'X', name: 'X', parentCode: null, attributes: {} }, keep('f4')), { code: 'FG_PLUGIN_INVALID' });
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '000042')!.lastname, 'C');
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
  const repo = new SqliteDirectoryRows(db);
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '000042'), old);
  assert.deepEqual(JSON.parse(db.prepare('SELECT data FROM dir_employees').pluck().get() as string), old.attributes);
  assert.deepEqual(repo.findEmployees('acme', { technicalId: 'T42' }), [old]);
  assert.deepEqual(repo.findEmployees('acme', { email: 'anna.muller@ACME.example' }), [old]);
  assert.equal(repo.upsertEmployee('acme', old), 'unchanged');
  db.close();
});
