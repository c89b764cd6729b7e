import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isFluxgateError } from '../../core/errors';
import type { AccountDirectory, DirectoryOp, DirectoryStore, Employee } from '../../core/plugin-api';
import { MemoryDirectory } from '../../core/plugin-testing';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRepository } from '../../core/store/directory-repository';
import { bindDirectory } from '../../core/workflow/account-directory';

// ctx.directory.batch(ops): operations run in order in one transaction and resolve to their
// results; a malformed batch, or one naming an account, runs nothing; an operation that throws
// rolls the whole batch back. The same on the engine's store (SQLite) and the SDK's (memory).
// Over the sandbox's IPC: test/e2e/plugin-sandbox.test.ts.

const employee = (ref: string, lastname = 'Martin'): Employee => ({
  organizationCode: 'ORG', registrationReference: ref, technicalId: null, email: null, lastname, firstname: 'A',
  active: true, departureDate: null, attributes: {},
});
const user = { login: 'u1', email: 'u1@acme.example', firstname: 'U', lastname: 'One', profileCode: 'hr', organizationCodes: [], attributes: {} };

const root = mkdtempSync(join(tmpdir(), 'fg-batch-'));
after(() => rmSync(root, { recursive: true, force: true }));
let databases = 0;
// MemoryDirectory holds one account (it ignores the account id): no other account's rows there.
const stores: Array<[string, () => DirectoryStore, boolean]> = [
  ['the engine\'s store', () => new SqliteDirectoryRepository(openDatabase(join(root, `d${++databases}.sqlite`))), true],
  ['the SDK\'s MemoryDirectory', () => new MemoryDirectory(), false],
];

for (const [name, makeStore, multiAccount] of stores) {
  describe(`ctx.directory.batch on ${name}`, () => {
    const setUp = async (): Promise<{ store: DirectoryStore; acme: AccountDirectory }> => {
      const store = makeStore();
      if (multiAccount) await store.upsertEmployee('globex', employee('G1', 'Globex-Secret'));
      return { store, acme: bindDirectory(store, 'acme', 'batchy') };
    };
    const lastnames = async (acme: AccountDirectory) => (await acme.listEmployees()).map((e) => e.lastname);

    test('runs its operations in order and resolves to their results', async () => {
      const { acme } = await setUp();
      const pending = acme.batch([
        { method: 'createEmployee', args: [employee('A1')] },
        { method: 'createEmployee', args: [employee('A1', 'Again')] },
        { method: 'updateEmployee', args: [employee('A1', 'Renamed'), { sourceFile: 'f1', keepPrevious: true }] },
        { method: 'updateEmployee', args: [employee('NONE')] },
        { method: 'previousEmployee', args: ['ORG', 'A1', 'f1'] },
        { method: 'getEmployee', args: ['ORG', 'A1'] },
        { method: 'listEmployees', args: [] },
      ]);
      assert.ok(pending instanceof Promise, 'a Promise, even though SQLite answers synchronously');
      const [created, again, updated, absent, previous, stored, listed] = await pending;
      assert.equal(created, true);
      assert.equal(again, false, 'the second create sees the first: same transaction, in order');
      assert.equal(updated, 'updated');
      assert.equal(absent, undefined, 'an absent key stays undefined (not null)');
      assert.equal(previous?.lastname, 'Martin');
      assert.equal(stored?.lastname, 'Renamed');
      assert.deepEqual(listed.map((e) => e.lastname), ['Renamed'], 'the bound account only');
      assert.deepEqual(await acme.batch([]), []);
    });

    test('an operation that throws: none of the batch applies, the Promise rejects with its code and index', async () => {
      const { acme } = await setUp();
      await assert.rejects(acme.batch([
        { method: 'upsertEmployee', args: [employee('A1')] },
        { method: 'upsertEmployee', args: [employee('A2')] },
        // keepPrevious is for employees only: refused when it runs.
        { method: 'upsertUser', args: [user, { sourceFile: 'f1', keepPrevious: true }] },
      ]), (err) => isFluxgateError(err, 'FG_PLUGIN_INVALID') && err.details.operation === 2 && err.details.method === 'upsertUser'
        && /operation 2 \(upsertUser\) failed, so none of the batch's 3 operations applied: .*keepPrevious/.test(err.message));
      assert.deepEqual(await lastnames(acme), [], 'the first two operations were rolled back');
      assert.equal(await acme.getUser('u1'), undefined);
    });

    test('a malformed batch is FG_PLUGIN_INVALID, naming what is wrong, and nothing runs', async () => {
      const { acme } = await setUp();
      const first: DirectoryOp = { method: 'createEmployee', args: [employee('A1')] };
      const cases: Array<[unknown, RegExp]> = [
        [undefined, /called ctx\.directory\.batch with a value of type undefined: it takes an array of operations/],
        [{ method: 'listEmployees' }, /with a value of type object: it takes an array/],
        [[first, null], /operation 1 null; an operation is \{ method, args \}, method one of getOrganization, /],
        [[first, 'listEmployees'], /operation 1 a value of type string/],
        [[first, { args: [] }], /operation 1 without a method name/],
        [[first, { method: 'transaction', args: [] }], /operation 1 naming method "transaction", which a batch does not run/],
        [[first, { method: 'batch', args: [[]] }], /naming method "batch"/],
        [[first, { method: 'toString', args: [] }], /naming method "toString"/],
        [[first, { method: 'dropEverything' }], /naming method "dropEverything"/],
        [[first, { method: 'getEmployee', args: 'ORG' }], /operation 1 whose args is a value of type string, not an array/],
      ];
      for (const [ops, message] of cases) {
        const pending = (acme.batch as (ops: unknown) => Promise<unknown[]>)(ops);
        assert.ok(pending instanceof Promise, 'refused through the Promise, not thrown');
        await assert.rejects(pending, (err) => isFluxgateError(err, 'FG_PLUGIN_INVALID') && message.test(err.message)
          && /handler for flux "batchy"/.test(err.message), String(message));
      }
      assert.deepEqual(await lastnames(acme), [], 'not even the valid first operation ran');
    });

    test('an operation naming an account (another, or its own the old way) is FG_PLUGIN_PERMISSION, and nothing runs', async () => {
      const { store, acme } = await setUp();
      const cases: unknown[][] = [
        [{ method: 'createEmployee', args: [employee('A1')] }, { method: 'listEmployees', args: ['globex'] }],
        [{ method: 'createEmployee', args: [employee('A1')] }, { method: 'upsertEmployee', args: ['globex', employee('G2', 'Planted')] }],
        [{ method: 'createEmployee', args: [employee('A1')] }, { method: 'forgetPrevious', args: ['acme', 'f1'] }],
      ];
      for (const ops of cases) {
        await assert.rejects((acme.batch as (ops: unknown) => Promise<unknown[]>)(ops), (err) => isFluxgateError(err, 'FG_PLUGIN_PERMISSION')
          && err.details.operation === 1 && /ctx\.directory\.batch operation 1 \(\w+\) with "(globex|acme)" first: ctx\.directory is bound to account "acme"/.test(err.message));
      }
      assert.deepEqual(await lastnames(acme), []);
      if (multiAccount) assert.deepEqual((await store.listEmployees('globex')).map((e) => e.lastname), ['Globex-Secret'], 'globex untouched');
    });
  });
}
