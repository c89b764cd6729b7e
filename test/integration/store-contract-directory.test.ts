import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { FluxgateError } from '../../core/errors';
import { ABSENT_FIELDS, type AbsentFields, type DirectoryOp, type Employee, type Organization } from '../../core/plugin-api';
import { directoryTarget, openDirectory } from '../../core/store/directory-factory';
import { EMPLOYEE_FIELDS } from '../../core/store/employee-rows';
import type { DirectoryRepository, EmployeeRows } from '../../core/store/ports/directory';
import type { PostgresStore } from '../../core/store/postgres/postgres-store';
import type { SqliteStore } from '../../core/store/sqlite-store';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';

// The plugin API's directory (core/store/ports/directory.ts) on SQLite and on PostgreSQL: the
// same answers, the same coded errors, rows per account, batches all or none.
const dir = (e: EngineUnderTest): DirectoryRepository => (e.store as SqliteStore | PostgresStore).directory();
const code = (c: string) => (err: unknown): boolean => (err as FluxgateError).code === c;

const employee = (over: Partial<Employee> = {}): Employee => ({
  organizationCode: 'ACME-FR', registrationReference: '000042', technicalId: 'T42', email: 'Anna.Muller@acme.example',
  lastname: 'Müller', firstname: 'Anna', active: true, departureDate: null, attributes: { city: 'Paris', country: 'FR' }, ...over,
});
const org = (code: string, over: Partial<Organization> = {}): Organization => ({ code, name: `Org ${code}`, parentCode: null, attributes: {}, ...over });

describe('store contract: directory', () => {
  bothEngines('employees: create, update, upsert, get, list, find; dry runs write nothing', async (e) => {
    const d = dir(e);
    assert.equal(await d.updateEmployee('acme', employee()), undefined, 'no employee has the key yet');
    assert.equal(await d.createEmployee('acme', employee(), { dryRun: true }), true);
    assert.deepEqual(await d.listEmployees('acme'), [], 'a dry run writes nothing');
    assert.equal(await d.createEmployee('acme', employee(), { sourceFile: 'f1' }), true);
    assert.equal(await d.createEmployee('acme', employee({ lastname: 'Martin' })), false);
    assert.equal(await d.createEmployee('acme', employee(), { dryRun: true }), false);
    assert.deepEqual(await d.getEmployee('acme', 'ACME-FR', '000042'), employee(), 'an existing key is left as it is');
    assert.equal(await d.updateEmployee('acme', employee({ attributes: { country: 'FR', city: 'Paris' } })), 'unchanged', 'attribute order does not matter');
    assert.equal(await d.upsertEmployee('acme', employee({ lastname: 'Martin' }), { dryRun: true }), 'updated');
    assert.equal((await d.getEmployee('acme', 'ACME-FR', '000042'))!.lastname, 'Müller');
    assert.equal(await d.upsertEmployee('acme', employee({ active: false, departureDate: '2026-12-31' })), 'updated');
    assert.deepEqual(await d.getEmployee('acme', 'ACME-FR', '000042'), employee({ active: false, departureDate: '2026-12-31' }));
    assert.equal(await d.upsertEmployee('acme', employee({ registrationReference: '000007', technicalId: 'T7', email: 'b@acme.example', attributes: { badge: 'x' } })), 'created');
    assert.deepEqual((await d.listEmployees('acme')).map((x) => x.registrationReference), ['000007', '000042'], 'in key order');
    assert.deepEqual((await d.findEmployees('acme', { email: 'anna.muller@ACME.example' })).map((x) => x.registrationReference), ['000042'], 'e-mail ignoring case');
    assert.deepEqual(await d.findEmployees('acme', { technicalId: 'T7' }), [employee({ registrationReference: '000007', technicalId: 'T7', email: 'b@acme.example', attributes: { badge: 'x' } })]);
    assert.deepEqual(await d.findEmployees('acme', { technicalId: 'nope' }), []);
    assert.deepEqual(await d.findEmployees('acme', {}), []);
    assert.equal(await d.removeEmployee('acme', 'ACME-FR', '000007'), true);
    assert.equal(await d.removeEmployee('acme', 'ACME-FR', '000007'), false);
    const [row] = await e.sql<{ data: string }>('SELECT data FROM dir_employees');
    assert.match(row.data, /^\["[\w-]{8}","Paris","FR"\]$/, 'attributes in the shaped form');
  });

  bothEngines('ABSENT_FIELDS: a new key takes the values, an existing one keeps the absent fields', async (e) => {
    const d = dir(e);
    const partial = (over: Partial<Employee>, absent: AbsentFields): Employee => ({ ...employee(over), [ABSENT_FIELDS]: absent });
    const none: AbsentFields = { core: ['technicalId', 'active', 'departureDate'], attributes: ['city'] };
    assert.equal(await d.createEmployee('acme', partial({ technicalId: null, attributes: { city: null, country: 'FR' } }, none)), true);
    const full = employee({ active: false, departureDate: '2026-03-31', attributes: { city: 'Paris', country: 'FR', badge: 'B-7' } });
    assert.equal(await d.upsertEmployee('acme', full), 'updated');
    const same = partial({ technicalId: null, active: true, departureDate: null, attributes: { city: null, country: 'FR' } }, none);
    assert.equal(await d.updateEmployee('acme', same), 'unchanged');
    assert.equal(await d.upsertEmployee('acme', same, { dryRun: true }), 'unchanged');
    const changed = partial({ email: null, active: true, attributes: { city: null, country: 'DE' } }, none);
    assert.equal(await d.updateEmployee('acme', changed, { sourceFile: 'f1', keepPrevious: true }), 'updated');
    assert.deepEqual(await d.getEmployee('acme', 'ACME-FR', '000042'), { ...full, email: null, attributes: { city: 'Paris', country: 'DE', badge: 'B-7' } });
    assert.equal(await d.upsertEmployee('acme', (await d.previousEmployee('acme', 'ACME-FR', '000042', 'f1'))!), 'updated');
    assert.deepEqual(await d.getEmployee('acme', 'ACME-FR', '000042'), full, 'the kept row restores the employee whole');
  });

  bothEngines('keepPrevious: the employee before the file, per file and key, until forgotten; misuse refused', async (e) => {
    const d = dir(e);
    const keep = (fileId: string) => ({ sourceFile: fileId, keepPrevious: true });
    const previous = async (fileId: string) => (await d.previousEmployee('acme', 'ACME-FR', '000042', fileId))?.lastname;
    assert.equal(await d.createEmployee('acme', employee(), keep('f0')), true);
    assert.equal(await previous('f0'), undefined, 'creating a key keeps nothing');
    assert.equal(await d.updateEmployee('acme', employee({ lastname: 'A' }), keep('f1')), 'updated');
    assert.equal(await d.updateEmployee('acme', employee({ lastname: 'B' }), keep('f1')), 'updated');
    assert.equal(await previous('f1'), 'Müller', 'the row before the file, not its own first write');
    assert.equal(await d.updateEmployee('acme', employee({ lastname: 'Other' }), { sourceFile: 'g' }), 'updated');
    assert.equal(await d.updateEmployee('acme', employee({ lastname: 'A' }), keep('f1')), 'updated');
    assert.equal(await previous('f1'), 'Other', 'a row another file wrote is kept over it');
    assert.equal(await d.updateEmployee('acme', employee({ lastname: 'A' }), keep('f2')), 'unchanged');
    assert.equal(await previous('f2'), undefined, 'unchanged keeps nothing');
    assert.equal(await d.updateEmployee('acme', employee({ lastname: 'C' }), keep('f2')), 'updated');
    assert.equal(await d.previousEmployee('globex', 'ACME-FR', '000042', 'f1'), undefined, 'per account');
    assert.equal(await d.forgetPrevious('globex', 'f1'), 0);
    assert.equal(await d.forgetPrevious('acme', 'f1'), 1);
    assert.equal(await previous('f1'), undefined);
    assert.equal(await previous('f2'), 'A', 'forgetting one file leaves the others');
    await assert.rejects(d.updateEmployee('acme', employee({ lastname: 'E' }), { keepPrevious: true }), code('FG_PLUGIN_INVALID'));
    await assert.rejects(d.upsertOrganization('acme', org('X'), keep('f4')), code('FG_PLUGIN_INVALID'));
    assert.equal((await d.getEmployee('acme', 'ACME-FR', '000042'))!.lastname, 'C');
    assert.equal(await d.getOrganization('acme', 'X'), undefined);
  });

  bothEngines('a retried file reports what its earlier attempt did (WriteOptions.sourceFile)', async (e) => {
    const d = dir(e);
    const f = (await e.store.journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/a.csv', name: 'a.csv',
      size: 3, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: '/data/sftp/acme/in/sal/a.csv' }, 1_000))!;
    await e.store.journal.addEvent(f.id, 'attempt', {}, Date.now() - 60_000);
    assert.equal(await d.createEmployee('acme', employee(), { sourceFile: f.id }), true);
    assert.equal(await d.updateEmployee('acme', employee(), { sourceFile: f.id }), 'unchanged', 'written by this attempt: a repeated row');
    await e.store.journal.addEvent(f.id, 'attempt', {}, Date.now() + 60_000); // the attempt that created it was cut short
    assert.equal(await d.updateEmployee('acme', employee(), { sourceFile: f.id }), 'created');
    assert.equal(await d.updateEmployee('acme', employee(), { sourceFile: 'another' }), 'unchanged');
  });

  bothEngines('organizations, users and documents round-trip, in key order', async (e) => {
    const d = dir(e);
    // A database whose collation sorts 'a' before 'B' (a cluster's locale may): the order is still SQLite's.
    if (e.engine === 'postgres') await e.sql('ALTER TABLE dir_organizations ALTER COLUMN code TYPE TEXT COLLATE "und-x-icu"');
    assert.equal(await d.upsertOrganization('acme', org('B', { parentCode: 'A', attributes: { city: 'Lyon' } })), 'created');
    assert.equal(await d.upsertOrganization('acme', org('A')), 'created');
    assert.equal(await d.upsertOrganization('acme', org('A')), 'unchanged');
    assert.equal(await d.upsertOrganization('acme', org('a')), 'created');
    assert.deepEqual((await d.listOrganizations('acme')).map((o) => o.code), ['A', 'B', 'a'], 'keys compared as bytes, as SQLite does');
    assert.deepEqual(await d.getOrganization('acme', 'B'), org('B', { parentCode: 'A', attributes: { city: 'Lyon' } }));
    const user = { login: 'hr.admin1', email: 'a@acme.example', firstname: 'A', lastname: 'B', profileCode: 'HR_ADMIN', organizationCodes: ['ACME-FR', 'ACME-DE'], attributes: { language: 'fr-fr' } };
    assert.equal(await d.upsertUser('acme', user), 'created');
    assert.equal(await d.upsertUser('acme', { ...user, organizationCodes: ['ACME-FR'] }), 'updated');
    assert.deepEqual(await d.listUsers('acme'), [{ ...user, organizationCodes: ['ACME-FR'] }]);
    const doc = { externalReference: 'PAY-1', title: 'Payslip', documentDate: '2026-10-31', organizationCode: 'ACME-FR', registrationReference: '000042', vaultPath: 'vault/documents/ab.pdf', sha256: 'ab', size: 10, attributes: {} };
    assert.equal(await d.upsertDocument('acme', doc), 'created');
    assert.equal(await d.upsertDocument('acme', doc, { dryRun: true }), 'unchanged');
    assert.deepEqual(await d.getDocument('acme', 'PAY-1'), doc);
    assert.deepEqual(await d.listDocuments('acme'), [doc]);
    const node2 = (await e.another()) as SqliteStore | PostgresStore;
    assert.deepEqual(await node2.directory().getUser('acme', 'hr.admin1'), { ...user, organizationCodes: ['ACME-FR'] }, 'another connection sees committed rows');
  });

  bothEngines('two accounts never see each other\'s rows', async (e) => {
    const d = dir(e);
    assert.equal(await d.upsertEmployee('acme', employee()), 'created');
    assert.equal(await d.upsertEmployee('globex', employee({ lastname: 'G' })), 'created', 'the same key in another account is another row');
    await d.upsertOrganization('acme', org('A'));
    assert.equal(await d.getEmployee('initech', 'ACME-FR', '000042'), undefined);
    assert.equal((await d.getEmployee('globex', 'ACME-FR', '000042'))!.lastname, 'G');
    assert.equal((await d.listEmployees('acme')).length, 1);
    assert.deepEqual(await d.findEmployees('initech', { technicalId: 'T42' }), []);
    assert.deepEqual(await d.findEmployees('initech', { email: 'anna.muller@acme.example' }), []);
    assert.deepEqual(await d.listOrganizations('globex'), []);
    assert.equal(await d.removeEmployee('initech', 'ACME-FR', '000042'), false);
    assert.deepEqual(await d.batch('globex', [{ method: 'createEmployee', args: [employee({ registrationReference: '1' }), {}] }, { method: 'createEmployee', args: [employee({ registrationReference: '2' }), {}] }]), [true, true]);
    assert.equal((await d.listEmployees('acme')).length, 1, 'a batch writes its own account only');
  });

  bothEngines('batch: answers in order; a multi-row create run answers per row, a repeated key false', async (e) => {
    const d = dir(e);
    await d.createEmployee('acme', employee({ registrationReference: '2' }));
    const options = { sourceFile: 'f1' };
    const ops: DirectoryOp[] = ['1', '2', '3', '1'].map((ref) => ({ method: 'createEmployee', args: [employee({ registrationReference: ref, attributes: { n: ref } }), options] }));
    ops.push({ method: 'updateEmployee', args: [employee({ registrationReference: '2', lastname: 'Z' }), options] }, { method: 'getEmployee', args: ['ACME-FR', '3'] },
      { method: 'listOrganizations', args: [] });
    const answers = await d.batch('acme', ops);
    assert.deepEqual(answers.slice(0, 5), [true, false, true, false, 'updated']);
    assert.deepEqual(answers[5], employee({ registrationReference: '3', attributes: { n: '3' } }));
    assert.deepEqual(answers[6], []);
    assert.deepEqual(await d.batch('acme', []), []);
    const many = Array.from({ length: 2_500 }, (_, i) => employee({ registrationReference: `R${String(i).padStart(5, '0')}`, attributes: { i: String(i) } }));
    const created = await d.batch('acme', many.map((x) => ({ method: 'createEmployee', args: [x, options] }) as const));
    assert.equal(created.filter((c) => c === true).length, 2_500);
    assert.equal((await d.listEmployees('acme')).length, 2_503);
  });

  // PostgreSQL: a batch that is only a run of new keys is one COPY outside a transaction, its rows
  // encoded into a buffer sized from the last COPY's rows, grown when short (directory-tables.ts
  // createAlone, copy-in.ts CopyText); a key there, or a shape not stored yet, sends it the transaction's way.
  bothEngines('batch: a run of new keys alone: rows of any size and characters stored exactly; a key there, or sent by two nodes at once, stored once', async (e) => {
    const d = dir(e);
    const options = { sourceFile: 'f1' };
    const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => from + k);
    const create = (directory: DirectoryRepository, list: Employee[]) => directory.batch('acme', list.map((x) => ({ method: 'createEmployee', args: [x, options] }) as const));
    const small = range(0, 200).map((i) => employee({ registrationReference: `S${i}`, technicalId: null, email: null, attributes: {} }));
    assert.deepEqual(await create(d, small), small.map(() => true));
    // Rows ~30 times the last batch's, in 4-byte and 3-byte characters, with COPY's escaped characters.
    const big = range(0, 300).map((i) => employee({ registrationReference: `B${i}`, lastname: '😀'.repeat(50 + i), firstname: 'a\tb\\c',
      attributes: { note: `tab\t newline\n return\r backslash\\ ${'☃'.repeat(400)}`, i: String(i) } }));
    assert.deepEqual(await create(d, big), big.map(() => true));
    assert.deepEqual(await create(d, big), big.map(() => false), 'the same keys again: none new');
    const stored = new Map((await d.listEmployees('acme')).map((x) => [x.registrationReference, x]));
    assert.equal(stored.size, 500);
    for (const x of big) assert.deepEqual(stored.get(x.registrationReference), x);
    // One key there among new ones: every other row inserted, that one left as it is.
    const mixed = [...range(300, 150).map((i) => employee({ registrationReference: `B${i}`, attributes: {} })), employee({ registrationReference: 'B7', lastname: 'Other' })];
    assert.deepEqual(await create(d, mixed), mixed.map((_, k) => k < 150));
    assert.equal((await d.getEmployee('acme', 'ACME-FR', 'B7'))!.lastname, big[7].lastname);
    // Two nodes sending the same new keys at once: each key stored once, answered true by one batch only.
    const node2 = ((await e.another()) as SqliteStore | PostgresStore).directory();
    const same = range(0, 150).map((i) => employee({ registrationReference: `C${i}`, attributes: { i: String(i) } }));
    const [one, two] = await Promise.all([create(d, same), create(node2, same)]);
    assert.deepEqual(one.map((x, i) => x !== two[i]), same.map(() => true), 'each key taken by exactly one batch');
    assert.equal((await d.listEmployees('acme')).length, 800);
  });

  // A text PostgreSQL cannot hold (NUL) is refused before any write by both engines (directory-tables.ts, checkColumn), naming
  // the column: the batch rejects with FG_STORE_VALUE and writes nothing, and the next batches (on PostgreSQL on another
  // connection, with another buffer) store exactly what they carry; a NUL inside an attribute is stored by both (JSON escapes it).
  bothEngines('values no store can hold (a NUL in a column, nothing in a required one) are refused alike, nothing written; the next batches apply', async (e) => {
    const d = dir(e);
    const rows = (prefix: string, lastname = 'Müller'): Employee[] => Array.from({ length: 150 }, (_, i) => employee({ registrationReference: `${prefix}${i}`, lastname, attributes: { i: String(i) } }));
    const create = (list: Employee[]) => d.batch('acme', list.map((x) => ({ method: 'createEmployee', args: [x, { sourceFile: 'f1' }] }) as const));
    assert.deepEqual(await create(rows('A')), rows('A').map(() => true));
    const refused = rows('B');
    refused[149] = employee({ registrationReference: 'B149', lastname: 'nul\u0000here' });
    const engineSays = (err: FluxgateError) => err.details?.column === 'lastname';
    await assert.rejects(create(refused), (err: FluxgateError) => err.code === 'FG_STORE_VALUE' && engineSays(err)
      && err.details?.method === 'createEmployee' && /NUL/.test(err.message));
    assert.equal(await d.getEmployee('acme', 'ACME-FR', 'B0'), undefined, 'nothing of the refused batch');
    // In a transaction's batch too, coded, naming its operation; a single write too.
    const update = { ...rows('A')[3], lastname: 'nul\u0000again' };
    await assert.rejects(d.batch('acme', [{ method: 'updateEmployee', args: [rows('A')[2], { sourceFile: 'f2' }] }, { method: 'updateEmployee', args: [update, { sourceFile: 'f2' }] }]),
      (err: FluxgateError) => err.code === 'FG_STORE_VALUE' && err.details?.operation === 1 && engineSays(err));
    await assert.rejects(d.createEmployee('acme', employee({ registrationReference: 'E1', lastname: 'x\u0000' })), (err: FluxgateError) => err.code === 'FG_STORE_VALUE');
    await assert.rejects(d.upsertOrganization('acme', { code: 'O\u0000', name: 'Nul', parentCode: null, attributes: {} }), (err: FluxgateError) => err.code === 'FG_STORE_VALUE');
    assert.equal(await d.getEmployee('acme', 'ACME-FR', 'E1'), undefined);
    // Nothing in a NOT NULL column, or a value neither a text nor a number: refused by both engines alike, before any write.
    // (SQLite's INSERT OR IGNORE skipped a NULL lastname as if the key were there: `false`, an upsert `created`, nothing stored.)
    const missing = (err: FluxgateError) => err.code === 'FG_STORE_VALUE' && err.details?.column === 'lastname' && /required/.test(err.message);
    await assert.rejects(d.createEmployee('acme', employee({ registrationReference: 'E2', lastname: null as never })), missing);
    await assert.rejects(d.upsertEmployee('acme', employee({ registrationReference: 'E3', lastname: undefined as never })), missing);
    await assert.rejects(create(rows('E').map((x, i) => (i === 120 ? { ...x, lastname: null as never } : x))),
      (err: FluxgateError) => missing(err) && err.details?.method === 'createEmployee');
    await assert.rejects(d.upsertOrganization('acme', { code: 'O2', name: true as never, parentCode: null, attributes: {} }),
      (err: FluxgateError) => err.code === 'FG_STORE_VALUE' && err.details?.column === 'name');
    // An optional column given nothing (null or undefined) is NULL on both.
    assert.equal(await d.createEmployee('acme', { ...employee({ registrationReference: 'E4' }), technicalId: undefined as never, departureDate: null }), true);
    assert.equal((await d.getEmployee('acme', 'ACME-FR', 'E4'))!.technicalId, null);
    for (const ref of ['E2', 'E3', 'E0', 'E119']) assert.equal(await d.getEmployee('acme', 'ACME-FR', ref), undefined, `${ref} not written`);
    assert.equal((await d.getEmployee('acme', 'ACME-FR', 'A3'))!.lastname, 'Müller');
    // In an attribute, NUL is JSON's escape, not a NUL in the text: stored and read back on both.
    assert.deepEqual(await create([employee({ registrationReference: 'F1', attributes: { note: 'a\u0000b' } })]), [true]);
    assert.equal((await d.getEmployee('acme', 'ACME-FR', 'F1'))!.attributes.note, 'a\u0000b');
    for (const prefix of ['C', 'D']) assert.deepEqual(await create(rows(prefix, `☃ ${prefix}`)), rows(prefix).map(() => true));
    const stored = await d.listEmployees('acme');
    assert.equal(stored.length, 452);
    assert.deepEqual(stored.find((x) => x.registrationReference === 'D149'), rows('D', '☃ D')[149]);
  });

  // PostgreSQL inserts a big run of new keys without ON CONFLICT first, and falls back when a key is there (directory-insert.ts).
  bothEngines('batch: big create runs answer per row whether their keys are new, already there or repeated, and roll back whole', async (e) => {
    const d = dir(e);
    const options = { sourceFile: 'f1' };
    const ref = (i: number): string => `R${String(i).padStart(4, '0')}`;
    const emp = (i: number, lastname = 'Müller'): Employee => employee({ registrationReference: ref(i), technicalId: `T${i}`, lastname, attributes: { i: String(i) } });
    const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => from + k);
    const create = (account: string, list: Employee[]) => d.batch(account, list.map((x) => ({ method: 'createEmployee', args: [x, options] }) as const));
    assert.deepEqual(await create('acme', range(0, 300).map((i) => emp(i))), range(0, 300).map(() => true), 'new keys');
    assert.deepEqual(await create('acme', range(150, 300).map((i) => emp(i, 'Other'))), range(150, 300).map((i) => i >= 300), 'the first 150 keys were there');
    assert.equal((await d.getEmployee('acme', 'ACME-FR', ref(299)))!.lastname, 'Müller', 'a key already there is left as it is');
    assert.equal((await d.getEmployee('acme', 'ACME-FR', ref(300)))!.lastname, 'Other');
    // A repeated key among new ones: right after keys that were there, then after a run of new keys only.
    for (const from of [450, 1000]) {
      const repeated = [...range(from, 200).map((i) => emp(i)), emp(from + 50, 'Second'), ...range(from + 200, 100).map((i) => emp(i))];
      assert.deepEqual(await create('acme', repeated), repeated.map((_, k) => k !== 200), `the repeat answers false (from ${from})`);
      assert.equal((await d.getEmployee('acme', 'ACME-FR', ref(from + 50)))!.lastname, 'Müller', 'the first occurrence is the one stored');
      if (from === 450) assert.deepEqual(await create('acme', range(750, 250).map((i) => emp(i))), range(750, 250).map(() => true));
    }
    assert.equal((await d.listEmployees('acme')).length, 1300);
    // Within one chunk of SQLite's multi-row INSERT (chunked-insert.ts, 16 rows): a key twice among new keys, and a key already there among new ones.
    const within = range(1500, 40).map((i) => emp(i));
    within[9] = emp(1505, 'Twice');
    within[20] = emp(10, 'Known');
    assert.deepEqual(await create('acme', within), within.map((_, k) => k !== 9 && k !== 20));
    assert.equal((await d.getEmployee('acme', 'ACME-FR', ref(1505)))!.lastname, 'Müller', 'the first row of a key repeated in the chunk');
    assert.equal((await d.getEmployee('acme', 'ACME-FR', ref(10)))!.lastname, 'Müller', 'the key already there is left as it is');
    assert.equal((await d.getEmployee('acme', 'ACME-FR', ref(1521)))!.lastname, 'Müller', 'the new keys beside it are stored');
    assert.equal((await d.listEmployees('acme')).length, 1338);
    const failing: DirectoryOp[] = [...range(2000, 200).map((i): DirectoryOp => ({ method: 'createEmployee', args: [emp(i), options] })),
      { method: 'updateEmployee', args: [employee(), { keepPrevious: true }] }];
    await assert.rejects(d.batch('acme', failing), (err: FluxgateError) => err.code === 'FG_PLUGIN_INVALID' && err.details?.operation === 200);
    assert.equal((await d.listEmployees('acme')).length, 1338, 'the run of new keys rolled back with the batch');
    assert.equal(await d.getEmployee('acme', 'ACME-FR', ref(2000)), undefined);
    assert.deepEqual(await create('beta', range(0, 300).map((i) => emp(i))), range(0, 300).map(() => true), 'the same keys are new in another account');
    // Values that array literals quote, escape or read as NULL come back as they went in (PostgreSQL: textArray).
    const awkward = ['a"b', 'back\\slash', 'line\nbreak\ttab', 'NULL', 'null', '', ' padded ', '{a,b}', 'Ångström ☃ 😀', '\\"', '\u0001', 'x\\'];
    for (const [n, value] of ['plain', ...awkward].entries()) {
      const list = range(0, 120).map((i) => employee({ registrationReference: `A${n}-${i}`, lastname: value, email: i % 2 ? null : value, attributes: { v: value, [value]: 'k' } }));
      assert.deepEqual(await create('gamma', list), list.map(() => true));
      assert.deepEqual(await d.getEmployee('gamma', 'ACME-FR', `A${n}-1`), list[1], JSON.stringify(value));
      assert.deepEqual(await d.getEmployee('gamma', 'ACME-FR', `A${n}-2`), list[2], JSON.stringify(value));
      const keep = { sourceFile: `u${n}`, keepPrevious: true };
      const changed = list.map((x) => ({ ...x, firstname: `${value}!`, attributes: { ...x.attributes, w: value } }));
      assert.deepEqual(await d.batch('gamma', changed.map((x) => ({ method: 'updateEmployee', args: [x, keep] }) as const)), list.map(() => 'updated'));
      assert.deepEqual(await d.getEmployee('gamma', 'ACME-FR', `A${n}-1`), changed[1], `updated: ${JSON.stringify(value)}`);
      assert.deepEqual(await d.previousEmployee('gamma', 'ACME-FR', `A${n}-1`, `u${n}`), list[1], `kept: ${JSON.stringify(value)}`);
    }
  });

  bothEngines('batch: a run of updates answers per row as one update after another would, and keeps the rows it replaces', async (e) => {
    const d = dir(e);
    const other = { sourceFile: 'g' };
    for (const ref of ['1', '2', '3']) await d.createEmployee('acme', employee({ registrationReference: ref }), other);
    const keep = { sourceFile: 'f1', keepPrevious: true };
    const update = (ref: string, over: Partial<Employee> = {}): DirectoryOp => ({ method: 'updateEmployee', args: [employee({ registrationReference: ref, ...over }), keep] });
    const answers = await d.batch('acme', [update('1', { lastname: 'A', active: false }), update('2'), update('9'), update('3', { attributes: { city: 'Lyon' } }),
      update('1', { lastname: 'B' }), update('1', { lastname: 'B' })]);
    assert.deepEqual(answers, ['updated', 'unchanged', undefined, 'updated', 'updated', 'unchanged']);
    assert.deepEqual(await d.getEmployee('acme', 'ACME-FR', '1'), employee({ registrationReference: '1', lastname: 'B' }), 'the later update of the key applied after the earlier');
    assert.deepEqual(await d.getEmployee('acme', 'ACME-FR', '3'), employee({ registrationReference: '3', attributes: { city: 'Lyon' } }));
    assert.deepEqual(await d.previousEmployee('acme', 'ACME-FR', '1', 'f1'), employee({ registrationReference: '1' }), 'the row before the file, not its own first write');
    assert.deepEqual(await d.previousEmployee('acme', 'ACME-FR', '3', 'f1'), employee({ registrationReference: '3' }));
    assert.equal(await d.previousEmployee('acme', 'ACME-FR', '2', 'f1'), undefined, 'unchanged keeps nothing');
    const dry = { dryRun: true };
    assert.deepEqual(await d.batch('acme', ['1', '2'].map((ref) => ({ method: 'updateEmployee', args: [employee({ registrationReference: ref, lastname: 'B' }), dry] }))),
      ['unchanged', 'updated']);
    assert.equal((await d.getEmployee('acme', 'ACME-FR', '2'))!.lastname, 'Müller', 'a dry run writes nothing');
    const [row] = await e.sql<{ source_file: string }>('SELECT source_file FROM dir_employees WHERE registration_reference = ?', ['3']);
    assert.equal(row.source_file, 'f1');
  });

  bothEngines('createEmployeeRows: flat rows answer and store as a batch of createEmployee does; all or none; a dry run writes nothing', async (e) => {
    const d = dir(e);
    await d.createEmployee('acme', employee({ registrationReference: '2' }));
    const proto = JSON.parse('{"__proto__": "a column called so", "n": "x"}') as Employee['attributes'];
    const given = [employee({ registrationReference: '1', active: false, departureDate: '2026-06-30' }),
      employee({ registrationReference: '2', lastname: 'Not written' }),
      employee({ registrationReference: '3', technicalId: null, email: null, attributes: proto }),
      employee({ registrationReference: '4', attributes: {} })];
    // As a sandbox's batch arrives (core/sandbox/batch-wire.ts): values after a head, each row's place and shape.
    const flat = (list: Employee[]): EmployeeRows => {
      const values: unknown[] = ['head'];
      const rows: number[] = [];
      const shapes: string[][] = [];
      for (const x of list) {
        const keys = Object.keys(x.attributes);
        let s = shapes.findIndex((k) => k.join() === keys.join());
        if (s < 0) s = shapes.push(keys) - 1;
        rows.push(values.length, s);
        values.push(...EMPLOYEE_FIELDS.map((f) => x[f]), ...keys.map((k) => x.attributes[k]));
      }
      return { values, rows, shapes };
    };
    const options = { sourceFile: 'f1' };
    assert.deepEqual(await d.createEmployeeRows('acme', flat(given), { dryRun: true }), [true, false, true, true]);
    assert.equal((await d.listEmployees('acme')).length, 1, 'a dry run writes nothing');
    assert.deepEqual(await d.createEmployeeRows('acme', flat(given), options), [true, false, true, true]);
    assert.deepEqual(await d.listEmployees('acme'), [given[0], employee({ registrationReference: '2' }), given[2], given[3]], 'stored as createEmployee stores them');
    const stored = await d.getEmployee('acme', 'ACME-FR', '3');
    assert.equal(Object.getOwnPropertyDescriptor(stored!.attributes, '__proto__')?.value, 'a column called so');
    const sources = await e.sql<{ source_file: string | null }>('SELECT source_file FROM dir_employees ORDER BY registration_reference');
    assert.deepEqual(sources.map((r) => r.source_file), ['f1', null, 'f1', 'f1']);
    assert.deepEqual(await d.createEmployeeRows('acme', { values: [], rows: [], shapes: [] }, options), []);
    // A row no engine takes (NULL in a NOT NULL column: SQLite's INSERT OR IGNORE used to skip it as if its key were there), refused before any write.
    const bad = flat([employee({ registrationReference: '5' }), employee({ registrationReference: '6', lastname: null as never })]);
    await assert.rejects(d.createEmployeeRows('acme', bad, options), (err: FluxgateError) => err.code === 'FG_STORE_VALUE' && err.details?.column === 'lastname');
    assert.equal(await d.getEmployee('acme', 'ACME-FR', '5'), undefined, 'the rows before it rolled back');
    // A NUL in a column: refused by both engines, coded, nothing written.
    const nul = flat([employee({ registrationReference: '7' }), employee({ registrationReference: '8', email: 'a\u0000@acme.example' })]);
    await assert.rejects(d.createEmployeeRows('acme', nul, options), (err: FluxgateError) => err.code === 'FG_STORE_VALUE');
    assert.equal(await d.getEmployee('acme', 'ACME-FR', '7'), undefined, 'nothing of the refused rows');
    const node2 = (await e.another()) as SqliteStore | PostgresStore;
    assert.deepEqual(await node2.directory().getEmployee('acme', 'ACME-FR', '1'), given[0], 'read by another node, shape from the table');
  });

  bothEngines('two nodes writing the same new attribute shapes at once: both batches apply, both read', async (e) => {
    const node2 = (await e.another()) as SqliteStore | PostgresStore;
    const rows = (keys: string[]): DirectoryOp[] => Array.from({ length: 50 }, (_, i) => ({
      method: 'createEmployee', args: [employee({ registrationReference: String(i), attributes: Object.fromEntries(keys.map((k) => [k, `${k}${i}`])) }), {}] }));
    const shapes = [['a', 'b'], ['c', 'd'], ['e', 'f']];
    await Promise.all([
      dir(e).batch('acme', shapes.flatMap((keys, n) => rows(keys).map((op, i) => ({ ...op, args: [{ ...op.args[0] as Employee, registrationReference: `${n}-${i}` }, {}] }) as DirectoryOp))),
      node2.directory().batch('globex', [...shapes].reverse().flatMap((keys, n) => rows(keys).map((op, i) => ({ ...op, args: [{ ...op.args[0] as Employee, registrationReference: `${n}-${i}` }, {}] }) as DirectoryOp))),
    ]);
    for (const [store, account] of [[e.store, 'globex'], [node2, 'acme']] as const) {
      const listed = await (store as SqliteStore | PostgresStore).directory().listEmployees(account);
      assert.equal(listed.length, 150);
      assert.deepEqual(new Set(listed.map((x) => Object.keys(x.attributes).join())), new Set(['a,b', 'c,d', 'e,f']));
    }
    const [{ n }] = await e.sql<{ n: number | string }>('SELECT count(*) AS n FROM dir_attribute_shapes');
    assert.equal(Number(n), 3, 'each shape stored once');
  });

  bothEngines('batch: all or none: a failing operation rolls back the earlier ones, coded, named', async (e) => {
    const d = dir(e);
    await d.upsertOrganization('acme', org('KEEP'));
    const ops: DirectoryOp[] = [
      { method: 'upsertOrganization', args: [org('NEW')] },
      { method: 'createEmployee', args: [employee({ registrationReference: 'a' }), {}] },
      { method: 'createEmployee', args: [employee({ registrationReference: 'b' }), {}] },
      { method: 'upsertOrganization', args: [org('KEEP', { name: 'changed' })] },
      { method: 'updateEmployee', args: [employee(), { keepPrevious: true }] },
    ];
    await assert.rejects(d.batch('acme', ops), (err: FluxgateError) => {
      assert.equal(err.code, 'FG_PLUGIN_INVALID');
      assert.deepEqual([err.details?.operation, err.details?.method], [4, 'updateEmployee']);
      assert.match(err.message, /operation 4 \(updateEmployee\) failed, so none of the batch's 5 operations applied/);
      return true;
    });
    assert.deepEqual((await d.listOrganizations('acme')).map((o) => o.name), ['Org KEEP'], 'the earlier writes rolled back');
    assert.deepEqual(await d.listEmployees('acme'), []);
    // The shape the rolled-back batch named is written again by the next one (it is not taken as there).
    assert.deepEqual(await d.batch('acme', ops.slice(1, 3)), [true, true]);
    const node2 = (await e.another()) as SqliteStore | PostgresStore;
    assert.equal((await node2.directory().listEmployees('acme'))[0].attributes.city, 'Paris', 'read by another node, shape from the table');
  });

  bothEngines('openDirectory: a directory of its own from the store\'s target, closed with its connection', async (e) => {
    const target = e.engine === 'postgres' ? directoryTarget((e.store as PostgresStore).pool.url, { database: 'unused' })
      : directoryTarget(undefined, { database: (await e.sql<{ file: string }>('SELECT file FROM pragma_database_list WHERE name = \'main\''))[0].file });
    assert.equal(target.engine, e.engine);
    let writes = 0;
    const opened = openDirectory(target, { afterWrite: () => { writes++; } });
    try {
      await opened.directory.batch('acme', [{ method: 'upsertOrganization', args: [org('W')] }]);
      assert.equal(writes, 1);
    } finally {
      await opened.close();
    }
    await assert.rejects(opened.directory.listOrganizations('acme'), 'closed: its connection is gone');
    assert.deepEqual(await dir(e).getOrganization('acme', 'W'), org('W'));
  });
});
