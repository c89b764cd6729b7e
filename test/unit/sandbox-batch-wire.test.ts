import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ABSENT_FIELDS, type AbsentFields, type Employee } from '../../core/plugin-api';
import { decodeBatch, encodeBatch } from '../../core/sandbox/batch-wire';

// A ctx.directory.batch crosses the sandbox as JSON (batch-wire.ts): employees written go packed,
// their attribute names and ABSENT_FIELDS once per batch. What the engine gets must be what the
// plugin gave: same fields, same attribute order, the marker, the options; anything else as it was.
const wire = (ops: unknown): unknown => decodeBatch(JSON.parse(JSON.stringify(encodeBatch(ops))));

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
  const packed = JSON.stringify(encodeBatch(ops));
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
  assert.equal(decodeBatch(encodeBatch(undefined)), undefined, 'JSON drops it from the message: the engine sees no ops');
});
