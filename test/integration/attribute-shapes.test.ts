import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRows } from '../../core/store/directory-rows';
import type { Employee } from '../../core/plugin-api';

// Employee attributes in the shaped form (core/store/attribute-shapes.ts), on a real SQLite file.

function openRepo() {
  const file = join(mkdtempSync(join(tmpdir(), 'fg-shapes-')), 'fluxgate.db');
  const db = openDatabase(file);
  return { db, file, repo: new SqliteDirectoryRows(db) };
}

const employee = (ref: string, attributes: Employee['attributes']): Employee => ({
  organizationCode: 'ACME-FR', registrationReference: ref, technicalId: null, email: `${ref}@acme.example`,
  lastname: 'Müller', firstname: 'Anna', active: true, departureDate: null, attributes,
});
const SAL = { maiden_name: null, birth_date: '1980-02-29', address1: "12 rue d'Alésia", city: 'Paris', country: 'FR', gone: false, custom_badge: '0042' };
const shapeId = (keys: string[]) => createHash('sha256').update(JSON.stringify(keys)).digest('base64url').slice(0, 8);
const storedData = (db: ReturnType<typeof openDatabase>, ref: string) =>
  db.prepare('SELECT data FROM dir_employees WHERE registration_reference = ?').pluck().get(ref) as string;

test('attributes are stored as values under a shape that names the keys once, and read back as they were', () => {
  const { db, file, repo } = openRepo();
  repo.transaction(() => {
    repo.upsertEmployee('acme', employee('1', SAL));
    repo.upsertEmployee('acme', employee('2', { ...SAL, custom_badge: '0043' }));
  });
  const id = shapeId(Object.keys(SAL));
  assert.equal(storedData(db, '1'), JSON.stringify([id, null, '1980-02-29', "12 rue d'Alésia", 'Paris', 'FR', false, '0042']));
  assert.deepEqual(db.prepare('SELECT id, keys FROM dir_attribute_shapes').all(), [{ id, keys: JSON.stringify(Object.keys(SAL)) }]);
  // Key order survives; another connection (a CLI command) reads the same.
  const other = new SqliteDirectoryRows(openDatabase(file));
  assert.deepEqual(Object.entries(other.getEmployee('acme', 'ACME-FR', '2')!.attributes), Object.entries({ ...SAL, custom_badge: '0043' }));
  assert.deepEqual(other.listEmployees('acme').map((e) => e.attributes.custom_badge), ['0042', '0043']);
  // The same attributes in another key order are the same employee; other values are an update.
  const reordered = Object.fromEntries(Object.entries(SAL).reverse());
  assert.equal(repo.upsertEmployee('acme', employee('1', reordered)), 'unchanged');
  assert.equal(repo.upsertEmployee('acme', employee('1', { ...SAL, city: 'Lyon' })), 'updated');
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '1')!.attributes.city, 'Lyon');
  db.close();
});

test('rows of different shapes one after the other (longer, shorter, a prefix, the same) each keep their own', () => {
  const { db, repo } = openRepo();
  const shapes: Array<Employee['attributes']> = [
    SAL, { city: 'Paris' }, { ...SAL, extra: 'x' }, { maiden_name: null, birth_date: '1980-02-29' }, SAL, {}, { city: 'Lyon' },
  ];
  repo.transaction(() => shapes.forEach((attributes, i) => repo.upsertEmployee('acme', employee(String(i), attributes))));
  shapes.forEach((attributes, i) => assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', String(i))!.attributes, attributes, `row ${i}`));
  assert.equal(db.prepare('SELECT COUNT(*) FROM dir_attribute_shapes').pluck().get(), 5);
  db.close();
});

test('rows written before the shapes (a JSON object) are read, compared, and shaped when next written', () => {
  const { db, repo } = openRepo();
  repo.upsertEmployee('acme', employee('1', SAL));
  db.prepare('UPDATE dir_employees SET data = ?').run(JSON.stringify(SAL));
  assert.deepEqual(repo.getEmployee('acme', 'ACME-FR', '1')!.attributes, SAL);
  assert.equal(repo.upsertEmployee('acme', employee('1', SAL)), 'unchanged');
  assert.equal(storedData(db, '1'), JSON.stringify(SAL));
  assert.equal(repo.upsertEmployee('acme', employee('1', { ...SAL, gone: true })), 'updated');
  assert.ok(storedData(db, '1').startsWith(`["${shapeId(Object.keys(SAL))}",`));
  assert.equal(repo.getEmployee('acme', 'ACME-FR', '1')!.attributes.gone, true);
  db.close();
});

test('a shape added by a transaction that rolled back is added again by the next one, nested or not', () => {
  const { db, file, repo } = openRepo();
  assert.throws(() => repo.transaction(() => {
    repo.upsertEmployee('acme', employee('1', SAL));
    throw new Error('boom');
  }), /boom/);
  assert.equal(db.prepare('SELECT COUNT(*) FROM dir_attribute_shapes').pluck().get(), 0);
  repo.transaction(() => repo.upsertEmployee('acme', employee('1', SAL)));
  assert.equal(db.prepare('SELECT COUNT(*) FROM dir_attribute_shapes').pluck().get(), 1);
  // Nested: the inner transaction (a savepoint) rolls back, the outer one commits.
  const other = { ...SAL, nested: 'yes' };
  repo.transaction(() => {
    assert.throws(() => repo.transaction(() => {
      repo.upsertEmployee('acme', employee('2', other));
      throw new Error('inner');
    }), /inner/);
    repo.upsertEmployee('acme', employee('3', other));
  });
  const reader = new SqliteDirectoryRows(openDatabase(file));
  assert.deepEqual(reader.getEmployee('acme', 'ACME-FR', '1')!.attributes, SAL);
  assert.equal(reader.getEmployee('acme', 'ACME-FR', '2'), undefined);
  assert.deepEqual(reader.getEmployee('acme', 'ACME-FR', '3')!.attributes, other);
  db.close();
});

test('a shape id already holding other keys (a hash collision) leaves those attributes in plain JSON', () => {
  const { db, file, repo } = openRepo();
  db.prepare('INSERT INTO dir_attribute_shapes (id, keys) VALUES (?, ?)').run(shapeId(Object.keys(SAL)), '["other"]');
  assert.equal(repo.upsertEmployee('acme', employee('1', SAL), { dryRun: true }), 'created');
  repo.transaction(() => repo.upsertEmployee('acme', employee('1', SAL)));
  assert.equal(storedData(db, '1'), JSON.stringify(SAL));
  assert.deepEqual(new SqliteDirectoryRows(openDatabase(file)).getEmployee('acme', 'ACME-FR', '1')!.attributes, SAL);
  assert.equal(repo.upsertEmployee('acme', employee('1', SAL)), 'unchanged');
  db.close();
});

test('a dry run compares in the shaped form and writes no shape', () => {
  const { db, repo } = openRepo();
  assert.equal(repo.upsertEmployee('acme', employee('1', SAL), { dryRun: true }), 'created');
  assert.equal(db.prepare('SELECT COUNT(*) FROM dir_attribute_shapes').pluck().get(), 0);
  repo.upsertEmployee('acme', employee('1', SAL));
  assert.equal(repo.upsertEmployee('acme', employee('1', Object.fromEntries(Object.entries(SAL).reverse())), { dryRun: true }), 'unchanged');
  assert.equal(repo.upsertEmployee('acme', employee('1', { ...SAL, extra: 'x' }), { dryRun: true }), 'updated');
  assert.equal(db.prepare('SELECT COUNT(*) FROM dir_attribute_shapes').pluck().get(), 1);
  db.close();
});

test('a missing shape is a clear internal error, not wrong attributes', () => {
  const { db, file, repo } = openRepo();
  repo.upsertEmployee('acme', employee('1', SAL));
  db.prepare('DELETE FROM dir_attribute_shapes').run();
  assert.throws(() => new SqliteDirectoryRows(openDatabase(file)).getEmployee('acme', 'ACME-FR', '1'),
    (err: Error & { code?: string }) => err.code === 'FG_INTERNAL' && /attribute shape \S+, which dir_attribute_shapes does not hold/.test(err.message));
  db.close();
});

test('the shaped text is exactly what JSON.stringify writes, whatever the values hold', () => {
  const { db, repo } = openRepo();
  // Every kind of character JSON must escape, or may leave, stored as JSON.stringify writes it and
  // read back the same (a faster hand-written encoder would have to pass this too).
  const tricky = {
    quote: 'say "hi"', backslash: 'C:\\HR\\exports', control: 'a\u0001b\u001fc', tab: 'a\tb', newline: 'l1\nl2\r\n',
    emoji: 'team 👩‍💼', lone: 'x\ud800y', separator: 'a\u2028b\u2029c', empty: '', accents: 'Ångström Müller', none: null, yes: true, no: false,
    number: 42 as unknown as string, missing: undefined as unknown as null,
  };
  repo.transaction(() => repo.upsertEmployee('acme', employee('t', tricky)));
  const id = shapeId(Object.keys(tricky));
  assert.equal(storedData(db, 't'), JSON.stringify([id, ...Object.values(tricky)]));
  const back = repo.getEmployee('acme', 'ACME-FR', 't')!.attributes;
  assert.deepEqual(back, { ...tricky, number: 42, missing: null });
});
