import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pluginContainer } from '../../core/composition/plugins';
import { DataPaths } from '../../core/config/paths';
import { configSchema } from '../../core/config/schema';
import { isFluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { fluxHandler, type Employee, type FluxManifest } from '../../core/plugin-api';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRepository } from '../../core/store/directory-repository';
import { bindDirectory } from '../../core/workflow/account-directory';
import { HandlerRegistry } from '../../core/workflow/handler-registry';
import { ManifestScopedFiles } from '../../core/workflow/scoped-files';

// A handler reaches its file's account only: ctx.directory takes no account id and refuses one,
// and a manifest grant that is empty, absolute, climbs out with `..` or names an unknown top
// folder is refused when the handler is registered (server start, `workflows check`).

function handlerWith(permissions: FluxManifest['permissions'], flux = 'abc') {
  @fluxHandler({ apiVersion: 2, flux, permissions })
  class Probe { handle() { return Promise.resolve({ result: 'processed' as const }); } }
  return Probe;
}

describe('manifest grants are checked at registration', () => {
  const register = (permissions: FluxManifest['permissions']) => new HandlerRegistry(pluginContainer({ config: configSchema.parse({}), logger: silentLogger() })).register(handlerWith(permissions), 'test');

  test('an empty, absolute, `..` or unknown-top grant is FG_PLUGIN_INVALID naming it', () => {
    const cases: Array<[FluxManifest['permissions'], RegExp]> = [
      [{ read: [], write: [''], network: false }, /permissions\.write grant "" is empty: it would grant the whole account tree/],
      [{ read: ['  '], write: [], network: false }, /permissions\.read grant " {2}" is empty/],
      [{ read: [], write: ['/etc'], network: false }, /grant "\/etc" is absolute/],
      [{ read: [], write: ['../globex/out/sal'], network: false }, /grant "\.\.\/globex\/out\/sal" contains "\.\."/],
      [{ read: ['in/../vault'], write: [], network: false }, /contains "\.\."/],
      [{ read: [], write: ['etc/passwd'], network: false }, /unknown top folder "etc": a grant starts with "in", "out", "dev", "vault"/],
      [{ read: [], write: ['.'], network: false }, /unknown top folder|"\." segment/],
      [{ read: [], write: ['out//sal'], network: false }, /empty or "\." segment/],
      [{ read: 'in/abc' as unknown as string[], write: [], network: false }, /permissions\.read is "in\/abc", expected a list/],
    ];
    for (const [permissions, message] of cases) {
      assert.throws(() => register(permissions), (err) => isFluxgateError(err, 'FG_PLUGIN_INVALID') && message.test(err.message)
        && /handler Probe \(test\)/.test(err.message), JSON.stringify(permissions));
    }
  });

  test('grants below in/, out/, dev/ and vault/ load', () => {
    const manifest = register({ read: ['in/abc', 'dev'], write: ['out/abc/', 'vault/abc', 'vault'], network: false });
    assert.equal(manifest.flux, 'abc');
  });

  test('a context built from an unchecked manifest still grants nothing with an empty grant', () => {
    const root = mkdtempSync(join(tmpdir(), 'fg-scope-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    const files = new ManifestScopedFiles(new DataPaths(root), 'acme', { flux: 'abc', permissions: { read: [], write: [''], network: false } });
    for (const path of ['out/sal/x.csv', 'vault/doc.pdf', 'in/sal/y.csv']) {
      assert.throws(() => files.resolve(path, 'write'), (err) => isFluxgateError(err, 'FG_PLUGIN_PERMISSION'), path);
    }
  });
});

describe('ctx.directory is bound to the file\'s account', () => {
  const root = mkdtempSync(join(tmpdir(), 'fg-bound-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const store = new SqliteDirectoryRepository(openDatabase(join(root, 'd.sqlite')));
  const employee = (ref: string, lastname: string): Employee => ({
    organizationCode: 'ORG', registrationReference: ref, technicalId: null, email: null, lastname, firstname: 'A',
    active: true, departureDate: null, attributes: {},
  });
  const acme = bindDirectory(store, 'acme', 'peek');
  before(async () => { await store.upsertEmployee('globex', employee('G1', 'Globex-Secret')); });

  test('its methods take no account id and see the bound account only', async () => {
    assert.equal(await acme.upsertEmployee(employee('A1', 'Acme')), 'created');
    assert.deepEqual((await acme.listEmployees()).map((e) => e.lastname), ['Acme']);
    assert.equal(await acme.getEmployee('ORG', 'G1'), undefined, 'another account\'s key is not found');
    assert.deepEqual((await store.listEmployees('globex')).map((e) => e.lastname), ['Globex-Secret'], 'globex untouched');
  });

  test('another account named, or the bound one the old way, is FG_PLUGIN_PERMISSION (the Promise rejects) and nothing is read or written', async () => {
    const unbound = acme as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const calls: Array<[string, unknown[]]> = [
      ['listEmployees', ['globex']],
      ['listOrganizations', ['globex']],
      ['getEmployee', ['globex', 'ORG', 'G1']],
      ['findEmployees', ['globex', { technicalId: 'x' }]],
      ['upsertEmployee', ['globex', employee('G2', 'Planted')]],
      ['createEmployee', ['acme', employee('A2', 'Old-style')]],
      ['forgetPrevious', ['globex', 'f_1']],
    ];
    for (const [method, args] of calls) {
      await assert.rejects(unbound[method](...args), (err) => isFluxgateError(err, 'FG_PLUGIN_PERMISSION')
        && err.message.includes(`ctx.directory.${method}`) && /bound to account "acme"/.test(err.message), method);
    }
    assert.deepEqual((await store.listEmployees('globex')).map((e) => e.lastname), ['Globex-Secret']);
    assert.deepEqual((await acme.listEmployees()).map((e) => e.lastname), ['Acme']);
  });
});
