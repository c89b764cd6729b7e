import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DirectoryOp, Employee } from '../../core/plugin-api';
import { isFluxgateError } from '../../core/errors';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRepository } from '../../core/store/directory-repository';
import { DirectoryWriter } from '../../core/store/directory-writer';

// The SQLite directory's big batches of new employees, inserted by the writer thread on a
// connection of its own (core/store/directory-writer.ts), against a real database file: what a
// batch answers and stores is what the server's thread would answer and store.

const root = mkdtempSync(join(tmpdir(), 'fg-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** Each test's writer, stopped after it whatever it asserted. */
const writers: DirectoryWriter[] = [];
afterEach(async () => { await Promise.all(writers.splice(0).map((w) => w.stop())); });

function open() {
  const file = join(root, `fluxgate-${++n}.db`);
  const db = openDatabase(file);
  const writer = new DirectoryWriter({ database: file });
  writers.push(writer);
  const withWriter = new SqliteDirectoryRepository(db, { writer });
  // The same file without a writer: the server's thread's way, to compare with.
  const here = new SqliteDirectoryRepository(openDatabase(file));
  return { db, writer, withWriter, here };
}

const employee = (ref: string, overrides: Partial<Employee> = {}): Employee => ({
  organizationCode: 'ACME-FR', registrationReference: ref, technicalId: `T${ref}`, email: `${ref}@acme.example`,
  lastname: 'Müller', firstname: 'Zoë', active: true, departureDate: null,
  attributes: { birth_date: '1980-02-29', city: 'Paris', badge: ref }, ...overrides,
});
const creates = (list: Employee[], options: object = { sourceFile: 'f1' }): DirectoryOp[] =>
  list.map((e): DirectoryOp => ({ method: 'createEmployee', args: [e, options] }));
const refs = (from: number, count: number) => Array.from({ length: count }, (_, i) => `R${String(from + i).padStart(5, '0')}`);

describe('the directory writer thread', () => {
  test('a batch of new employees is inserted there and reads back here as written; known keys answer false and stay', async () => {
    const { db, withWriter, here } = open();
    const first = refs(0, 300).map((r) => employee(r));
    // Two shapes in one batch: one the table never held.
    first[7] = employee(first[7].registrationReference, { attributes: { other: 'shape', n: '7' } });
    assert.deepEqual(await withWriter.batch('acme', creates(first)), first.map(() => true));
    assert.deepEqual(await here.getEmployee('acme', 'ACME-FR', 'R00007'), first[7]);
    assert.deepEqual(await here.getEmployee('acme', 'ACME-FR', 'R00299'), first[299]);
    const sources = db.prepare('SELECT DISTINCT source_file FROM dir_employees').pluck().all();
    assert.deepEqual(sources, ['f1']);
    // 150 keys already there (other data: left as they are), 150 new.
    const second = refs(150, 300).map((r) => employee(r, { lastname: 'Other' }));
    assert.deepEqual(await withWriter.batch('acme', creates(second, { sourceFile: 'f2' })), second.map((_, i) => i >= 150));
    assert.equal((await here.getEmployee('acme', 'ACME-FR', 'R00200'))!.lastname, 'Müller');
    assert.equal((await here.getEmployee('acme', 'ACME-FR', 'R00400'))!.lastname, 'Other');
    assert.equal((await here.listEmployees('acme')).length, 450);
    // The same batch on the server's thread answers the same (every key now there).
    assert.deepEqual(await here.batch('acme', creates(second)), second.map(() => false));
  });

  test('a value no store holds is refused before the batch leaves, naming its operation; nothing of the batch is written', async () => {
    const { withWriter, here } = open();
    const list = refs(0, 200).map((r) => employee(r));
    list[123] = employee('R00123', { firstname: null as never });
    await assert.rejects(withWriter.batch('acme', creates(list)),
      (err: unknown) => isFluxgateError(err) && err.code === 'FG_STORE_VALUE' && err.details.operation === 123 && err.details.column === 'firstname');
    assert.equal((await here.listEmployees('acme')).length, 0);
  });

  test('an error in the thread\'s transaction rolls the whole batch back and comes back with its SQLite code', async () => {
    const { db, withWriter, here } = open();
    db.exec(`CREATE TRIGGER refuse_r00150 BEFORE INSERT ON dir_employees WHEN NEW.registration_reference = 'R00150'
      BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`);
    await assert.rejects(withWriter.batch('acme', creates(refs(0, 200).map((r) => employee(r)))),
      (err: Error & { code?: string }) => err.code === 'SQLITE_CONSTRAINT_TRIGGER' && /refused by a test trigger/.test(err.message));
    assert.equal((await here.listEmployees('acme')).length, 0, 'the rows before it rolled back');
    db.exec('DROP TRIGGER refuse_r00150');
    assert.deepEqual(await withWriter.batch('acme', creates(refs(0, 200).map((r) => employee(r)))), refs(0, 200).map(() => true));
  });

  test('a shape id that holds another key list in the table: the batch goes the server thread\'s way, its attributes stored as plain JSON', async () => {
    const { db, withWriter, here } = open();
    const attributes = { colliding: 'yes', n: '1' };
    const id = createHash('sha256').update(JSON.stringify(Object.keys(attributes))).digest('base64url').slice(0, 8);
    db.prepare('INSERT INTO dir_attribute_shapes (id, keys) VALUES (?, ?)').run(id, JSON.stringify(['something', 'else']));
    const list = refs(0, 120).map((r) => employee(r, { attributes }));
    assert.deepEqual(await withWriter.batch('acme', creates(list)), list.map(() => true));
    assert.deepEqual((await here.getEmployee('acme', 'ACME-FR', 'R00042'))!.attributes, attributes);
    const data = db.prepare('SELECT data FROM dir_employees WHERE registration_reference = ?').pluck().get('R00042') as string;
    assert.equal(data, JSON.stringify(attributes), 'plain JSON, not under the colliding shape');
  });

  test('batches from the server\'s thread and the writer\'s at once both apply; a stopped writer starts again on the next batch', async () => {
    const { writer, withWriter, here } = open();
    const big = refs(0, 1000).map((r) => employee(r));
    const small = refs(5000, 20).map((r) => employee(r));
    const [a, b] = await Promise.all([withWriter.batch('acme', creates(big)), here.batch('acme', creates(small))]);
    assert.deepEqual([a.length, b.length], [1000, 20]);
    assert.ok([...a, ...b].every((x) => x === true));
    await writer.stop();
    assert.deepEqual(await withWriter.batch('acme', creates(refs(9000, 100).map((r) => employee(r)))), refs(0, 100).map(() => true));
    assert.equal((await here.listEmployees('acme')).length, 1120);
  });
});
