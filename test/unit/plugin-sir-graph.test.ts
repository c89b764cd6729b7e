import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkParents } from '../../plugins/sir/organization-graph';

const map = (entries: Array<[string, string | null]>) => new Map(entries);

test('a child before its parent, and parents already stored, are accepted', () => {
  const problems = checkParents(map([['B', 'A'], ['A', 'ROOT'], ['C', 'OLD']]), map([['ROOT', null], ['OLD', 'ROOT']]));
  assert.deepEqual([...problems.keys()], []);
});

test('own parent and a cycle through the file are FG_CYCLE for every member', () => {
  const problems = checkParents(map([['S', 'S'], ['X', 'Y'], ['Y', 'Z'], ['Z', 'X'], ['OK', null]]), map([]));
  assert.deepEqual([...problems.entries()].map(([k, v]) => [k, v.code]).sort(), [['S', 'FG_CYCLE'], ['X', 'FG_CYCLE'], ['Y', 'FG_CYCLE'], ['Z', 'FG_CYCLE']]);
  assert.match(problems.get('X')!.message, /X → Y → Z → X|Y → Z → X → Y|Z → X → Y → Z/);
});

test('a file row that re-parents a stored organization can close a cycle with stored ones', () => {
  // Stored: B's parent is A. The file makes A a child of B.
  const problems = checkParents(map([['A', 'B']]), map([['A', null], ['B', 'A']]));
  assert.equal(problems.get('A')?.code, 'FG_CYCLE');
});

test('unknown parents, and children of rejected rows, are FG_UNKNOWN_REF (to a fixpoint)', () => {
  const problems = checkParents(map([['A', 'NOWHERE'], ['B', 'A'], ['C', 'B'], ['D', 'C2']]), map([['C2', null]]));
  assert.deepEqual([...problems.entries()].map(([k, v]) => [k, v.code]).sort(), [['A', 'FG_UNKNOWN_REF'], ['B', 'FG_UNKNOWN_REF'], ['C', 'FG_UNKNOWN_REF']]);
  assert.match(problems.get('B')!.message, /is rejected in this file/);
  assert.match(problems.get('A')!.message, /does not exist/);
});

test('a child of a rejected file row whose code is also stored falls back to the stored organization', () => {
  const problems = checkParents(map([['P', 'P'], ['K', 'P']]), map([['P', null]]));
  assert.equal(problems.get('P')?.code, 'FG_CYCLE');
  assert.equal(problems.has('K'), false);
});
