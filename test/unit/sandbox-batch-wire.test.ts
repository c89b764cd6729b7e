import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { ABSENT_FIELDS, type AbsentFields, type Employee } from '../../core/plugin-api';
import { decodeBatch, decodeCreates, encodeBatch, type WireBatch } from '../../core/sandbox/batch-wire';
import { rowCount, rowEmployee } from '../../core/store/employee-rows';

// A ctx.directory.batch crosses the sandbox in V8's serialization (frames.ts, batch-wire.ts):
// employees written go as flat lists of values (in chunks), their attribute names and ABSENT_FIELDS once
// per batch. What the engine gets must be what the plugin gave: same fields, same attribute
// order, the marker, the options; anything else as it was.
const wire = (ops: unknown): unknown => decodeBatch(deserialize(serialize(encodeBatch(ops))));

const absent: AbsentFields = { core: ['email'], attributes: ['city'] };
const employee = (ref: string, attributes: Employee['attributes'], marked = true): Employee => ({
  organizationCode: 'ACME', registrationReference: ref, technicalId: null, email: `${ref}@acme.example`, lastname: 'Müller', firstname: 'Anna',
  active: ref !== '3', departureDate: ref === '3' ? '2026-06-30' : null, attributes, ...(marked ? { [ABSENT_FIELDS]: absent } : {}),
});

test('employee writes arrive whole: fields, attribute order, ABSENT_FIELDS, options; names sent once per shape', () => {
  const options = { sourceFile: 'f_1', keepPrevious: true };
  const custom = JSON.parse('{"__proto__": "a custom column", "zip_code": "75001"}') as Employee['attributes'];
  const ops: Array<{ method: string; args: [Employee, object?] }> = [
    { method: 'createEmployee', args: [employee('1', { zip_code: '75001', city: null, gone: false }), options] },
    { method: 'createEmployee', args: [employee('2', { zip_code: '69001', city: 'Lyon', gone: true }), options] },
    { method: 'updateEmployee', args: [employee('3', { city: 'Paris', zip_code: '75002' }, false), { dryRun: true }] },
    { method: 'upsertEmployee', args: [employee('4', custom, false)] },
  ];
  const packed = JSON.stringify(encodeBatch(ops)); // what it carries, as text
  assert.equal(packed.match(/zip_code/g)?.length, 3, 'one shape for the first two rows, one each for the others');
  assert.equal(packed.match(/keepPrevious/g)?.length, 1, 'the shared options object once');
  const got = wire(ops) as Array<{ method: string; args: [Employee, unknown?] }>;
  assert.equal(got.length, 4);
  got.forEach((op, i) => {
    assert.equal(op.method, ops[i].method);
    assert.deepEqual({ ...op.args[0] }, { ...ops[i].args[0] });
    assert.deepEqual(Object.keys(op.args[0].attributes), Object.keys(ops[i].args[0].attributes), 'attribute order kept');
    assert.deepEqual(op.args[0][ABSENT_FIELDS], ops[i].args[0][ABSENT_FIELDS]);
    assert.deepEqual(op.args.slice(1), ops[i].args.slice(1));
  });
  assert.equal(Object.getPrototypeOf(got[3].args[0].attributes), Object.prototype, 'a column called __proto__ is a property, not a prototype');
  assert.equal(Object.getOwnPropertyDescriptor(got[3].args[0].attributes, '__proto__')?.value, 'a custom column');
});

test('a big batch goes in chunks of whole operations, each a regular-sized list (under 16,384 values), and arrives whole', () => {
  const options = { sourceFile: 'f_1', keepPrevious: true };
  const many = Array.from({ length: 2000 }, (_, i) => ({ method: i === 1500 ? 'updateEmployee' : 'createEmployee',
    args: [employee(String(i), { zip_code: String(75000 + i), city: i % 3 ? 'Paris' : null, gone: i % 17 === 0 }), options] }));
  const encoded = encodeBatch(many) as WireBatch;
  assert.ok(encoded.chunks.length > 1, `${encoded.chunks.length} chunk(s)`);
  // A list past 16,384 values (128 KiB) is made in V8's old generation: what the chunks avoid.
  assert.ok(encoded.chunks.every((chunk) => chunk.length < 16_384), `chunks of ${encoded.chunks.map((c) => c.length).join(', ')} values`);
  const got = decodeBatch(deserialize(serialize(encoded))) as Array<{ method: string; args: [Employee, unknown] }>;
  assert.equal(got.length, many.length);
  got.forEach((op, i) => {
    assert.equal(op.method, many[i].method);
    assert.deepEqual({ ...op.args[0] }, { ...many[i].args[0] });
    assert.deepEqual(op.args[1], options);
  });
  const creates = decodeCreates(deserialize(serialize(encodeBatch(many.filter((op) => op.method === 'createEmployee')))))!;
  assert.equal(rowCount(creates.rows), 1999);
  assert.deepEqual(rowEmployee(creates.rows, 1998).attributes, { zip_code: String(75000 + 1999), city: 'Paris', gone: false });
});

test('other operations, odd employees and malformed batches go as they are, for the engine to run or refuse', () => {
  const odd = { ...employee('9', {}, false), extra: 'kept' };
  const ops: unknown[] = [
    { method: 'getEmployee', args: ['ACME', '1'] },
    { method: 'createEmployee', args: [odd] },
    { method: 'createEmployee', args: ['acme', employee('1', {})] },
    { method: 'upsertEmployee', args: [employee('5', { city: 'Lyon' }), { sourceFile: 'f' }, 'extra'] },
    { method: 'listEmployees' },
    null,
    'listEmployees',
  ];
  const got = wire(ops) as unknown[];
  assert.deepEqual(got[0], ops[0]);
  assert.deepEqual(got[1], { method: 'createEmployee', args: [odd] }, 'an unknown field is not dropped');
  assert.equal((got[2] as { args: unknown[] }).args[0], 'acme', 'an account id stays where it was (the engine refuses it)');
  assert.equal((got[3] as { args: unknown[] }).args.length, 3);
  assert.deepEqual((got[3] as { args: Employee[] }).args[0][ABSENT_FIELDS], absent, 'the marker also on the unpacked path');
  assert.deepEqual(got.slice(4), ops.slice(4));
  assert.equal(wire('not a list'), 'not a list');
  assert.equal(decodeBatch(encodeBatch(undefined)), undefined, 'the engine sees no ops (and refuses them)');
});

test('an employee holding something else than strings, numbers, booleans or null goes whole as JSON, as before', () => {
  const odd = employee('7', { city: { name: 'Paris' } as never });
  const when = new Date('2026-01-01T00:00:00Z');
  const dated = { ...employee('8', {}), departureDate: when as never };
  const got = wire([{ method: 'createEmployee', args: [odd] }, { method: 'createEmployee', args: [dated] }]) as Array<{ args: [Employee] }>;
  assert.deepEqual(got[0].args[0].attributes, { city: { name: 'Paris' } });
  assert.deepEqual(got[0].args[0][ABSENT_FIELDS], absent);
  assert.equal(got[1].args[0].departureDate, when.toISOString(), 'as JSON gives it');
});

test('a batch the engine cannot read is refused with FG_PLUGIN_INVALID, never read as other fields (the sandbox is untrusted)', () => {
  const good = encodeBatch([{ method: 'createEmployee', args: [employee('1', { city: 'Lyon', zip_code: '69001' })] }]) as WireBatch;
  const head = good.chunks[0].slice(0, 11);
  const refused = (what: string, batch: unknown) => assert.throws(() => decodeBatch(deserialize(serialize(batch))),
    (err: Error & { code?: string }) => err.code === 'FG_PLUGIN_INVALID', what);
  refused('an unknown operation code', { ...good, chunks: [[7, ...good.chunks[0].slice(1)]] });
  refused('a shape out of range', { ...good, chunks: [[0, 5, ...good.chunks[0].slice(2)]] });
  refused('an employee cut short', { ...good, chunks: [good.chunks[0].slice(0, -1)] });
  refused('a map as a value', { ...good, chunks: [[...head, new Map([['a', 1]]), 'x']] });
  refused('a date as a value', { ...good, chunks: [[...head.slice(0, 4), new Date(), ...good.chunks[0].slice(5)]] });
  refused('an object as a value', { ...good, chunks: [[...head, { toString: 'x' }, 'x']] });
  refused('attribute names that are not strings', { ...good, shapes: [[[1, 2], null]] });
  refused('absent fields that are not lists of names', { ...good, shapes: [[['city', 'zip_code'], { core: 'email', attributes: [] }]] });
  refused('options out of range', { ...good, chunks: [[0, 0, 3, ...good.chunks[0].slice(3)]] });
  refused('JSON texts that are not a list', { ...good, json: 'x' });
  refused('chunks that are not lists', { ...good, chunks: [good.chunks[0], 'x'] });
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  refused('a cycle as a value', { ...good, chunks: [[...head, cyclic, 'x']] });
});

test('a batch of creates sharing their options reaches the store as flat rows: the same employees, every value checked', () => {
  const options = { sourceFile: 'f_1', keepPrevious: true };
  const custom = JSON.parse('{"__proto__": "a custom column", "zip_code": "75001"}') as Employee['attributes'];
  const given = [employee('1', { zip_code: '75001', city: null, gone: false }), employee('2', { zip_code: '69001', city: 'Lyon', gone: true }),
    employee('3', custom, false), employee('4', {}, false)];
  const creates = (list: Employee[], o: object | null = options) => list.map((e) => ({ method: 'createEmployee', args: o ? [e, o] : [e] }));
  const flat = decodeCreates(deserialize(serialize(encodeBatch(creates(given)))))!;
  assert.deepEqual(flat.options, options);
  assert.equal(rowCount(flat.rows), 4);
  given.forEach((e, r) => {
    const row = rowEmployee(flat.rows, r);
    // ABSENT_FIELDS change nothing for a new key (plugin-api/directory.ts): a create leaves them out.
    const { [ABSENT_FIELDS]: _absent, ...created } = e;
    assert.deepEqual({ ...row, attributes: { ...row.attributes } }, { ...created, attributes: { ...e.attributes } });
    assert.deepEqual(Object.keys(row.attributes), Object.keys(e.attributes), 'attribute order kept');
  });
  assert.equal(decodeCreates(encodeBatch(creates(given, null)))!.options, undefined);

  // Anything else goes the way of decodeBatch, which runs or refuses it as it always did.
  const good = encodeBatch(creates(given.slice(0, 1))) as WireBatch;
  const head = good.chunks[0].slice(0, 11);
  assert.equal(decodeCreates(encodeBatch([...creates(given.slice(0, 1)), { method: 'updateEmployee', args: [given[1], options] }])), undefined, 'not only creates');
  assert.equal(decodeCreates(encodeBatch([...creates(given.slice(0, 1)), ...creates(given.slice(1, 2), { sourceFile: 'other' })])), undefined, 'other options');
  assert.equal(decodeCreates(encodeBatch([])), undefined, 'no rows');
  const fallsBack = (what: string, batch: unknown) => assert.equal(decodeCreates(deserialize(serialize(batch))), undefined, what);
  fallsBack('a map as a value', { ...good, chunks: [[...head, new Map([['a', 1]]), ...good.chunks[0].slice(12)]] });
  fallsBack('an object as a value', { ...good, chunks: [[...head.slice(0, 4), { toString: 'x' }, ...good.chunks[0].slice(5)]] });
  fallsBack('an employee cut short', { ...good, chunks: [good.chunks[0].slice(0, -1)] });
  fallsBack('a shape out of range', { ...good, chunks: [[0, 5, ...good.chunks[0].slice(2)]] });
  fallsBack('a shape naming an attribute twice', { ...good, shapes: [[['city', 'city', 'gone'], null]] });
  fallsBack('options that are not an object', { ...good, json: ['"text"'] });
  fallsBack('options that are not JSON', { ...good, json: ['{'] });
  fallsBack('absent fields that are not lists of names', { ...good, shapes: [[(good.shapes[0] as unknown[])[0], { core: 'email', attributes: [] }]] });
});
