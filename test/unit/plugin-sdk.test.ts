import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pluginModule } from '../../core/config/load';
import { isFluxgateError } from '../../core/errors';
import type { Employee } from '../../core/plugin-api';
import { createTestContext } from '../../core/plugin-testing';
import { checkManifest, networkAllows } from '../../core/workflow/manifest-check';
import { SalHandler } from '../../plugins/sal/handler';

const SAL = join(__dirname, '..', 'fixtures', 'exchange', 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
const base = { apiVersion: 2, flux: 'abc', permissions: { read: ['in/abc'], write: ['out/abc'], network: false } };
const refused = (manifest: unknown, message: RegExp) => assert.throws(() => checkManifest(manifest, 'Abc', 'test'),
  (e: unknown) => isFluxgateError(e) && e.code === 'FG_PLUGIN_INVALID' && message.test(e.message));

describe('manifest: apiVersion, network hosts and limits are checked at load', () => {
  test('apiVersion: 2 is accepted; 1 or absent (the synchronous directory) is refused saying what to change; another, saying which the server implements', () => {
    checkManifest(base, 'Abc', 'test');
    const { apiVersion: _, ...unversioned } = base;
    const migrate = /plugin API 1, whose ctx\.directory was synchronous; this server implements plugin API 2, where every ctx\.directory method returns a Promise and transaction\(fn\) is gone\. Await each ctx\.directory call, put the writes that must apply together in one ctx\.directory\.batch\(ops\), and write apiVersion: 2/;
    refused({ ...base, apiVersion: 1 }, new RegExp(`^handler Abc \\(test\\): apiVersion 1 is ${migrate.source}`));
    refused(unversioned, new RegExp(`^handler Abc \\(test\\): declares no apiVersion, which means ${migrate.source}`));
    refused({ ...base, apiVersion: 3 }, /apiVersion 3 is not one this server implements: it implements plugin API 2 \(write apiVersion: 2/);
    refused({ ...base, apiVersion: '2' }, /apiVersion "2"/);
  });

  test('network: false, true or a list of host:port; anything else is refused', () => {
    checkManifest({ ...base, permissions: { ...base.permissions, network: ['api.example.com:443', '[::1]:8080'] } }, 'Abc', 'test');
    refused({ ...base, permissions: { ...base.permissions, network: ['api.example.com'] } }, /permissions\.network grant "api\.example\.com" is not "host:port"/);
    refused({ ...base, permissions: { ...base.permissions, network: ['a.example:70000'] } }, /port 70000/);
    refused({ ...base, permissions: { ...base.permissions, network: 'yes' } }, /permissions\.network is "yes"/);
  });

  test('limits: memoryMb and secondsPerFile, whole numbers in range', () => {
    checkManifest({ ...base, limits: { memoryMb: 128, secondsPerFile: 30 } }, 'Abc', 'test');
    refused({ ...base, limits: { memoryMb: 8 } }, /limits\.memoryMb is 8: expected a whole number from 32/);
    refused({ ...base, limits: { cpus: 2 } }, /limits\.cpus is not a limit/);
  });

  test('a network grant allows its host and port only', () => {
    assert.equal(networkAllows(['api.example.com:443'], 'API.example.com', 443), true);
    assert.equal(networkAllows(['api.example.com:443'], 'api.example.com', 80), false);
    assert.equal(networkAllows(['api.example.com:443'], '127.0.0.1', 443), false);
    assert.equal(networkAllows(false, 'api.example.com', 443), false);
  });
});

describe('plugins: entries', () => {
  test('a path is made absolute; a package name resolves from the config\'s folder; an unknown one is kept as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-plugin-entry-'));
    mkdirSync(join(dir, 'node_modules', 'fluxgate-plugin-x'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'fluxgate-plugin-x', 'package.json'), '{"name":"fluxgate-plugin-x","main":"main.js"}');
    writeFileSync(join(dir, 'node_modules', 'fluxgate-plugin-x', 'main.js'), '');
    assert.equal(pluginModule('./plugins/a.ts', dir), join(dir, 'plugins', 'a.ts'));
    assert.equal(pluginModule('fluxgate-plugin-x', dir), join(dir, 'node_modules', 'fluxgate-plugin-x', 'main.js'));
    assert.equal(pluginModule('fluxgate-plugin-absent', dir), 'fluxgate-plugin-absent');
  });
});

describe('createTestContext', () => {
  test('runs a real handler (sal) on a file: records from it, the directory in memory, the report collected', async () => {
    const t = createTestContext({ input: SAL, handler: SalHandler, directory: { organizations: [{ code: 'ACME', name: 'Acme', parentCode: null, attributes: {} }, { code: 'ACME-FR', name: 'Acme FR', parentCode: 'ACME', attributes: {} }] } });
    const outcome = await new SalHandler().handle(t.file, t.ctx);
    assert.equal(outcome.result, 'processed');
    const employees = t.directory.rows().employees;
    assert.ok(employees.length > 0, 'the employees were applied to the in-memory directory');
    assert.equal(t.report.counts.created, employees.length);
    assert.equal(t.file.naming?.flux, 'sal');
    const again = createTestContext({ input: SAL, handler: SalHandler, directory: t.directory.rows() });
    await new SalHandler().handle(again.file, again.ctx);
    assert.equal(again.report.counts.created, 0, 'applying it twice changes nothing');
    assert.equal(again.report.counts.unchanged, employees.length);
  });

  test('ctx.directory is bound to the account as on the server: another account is refused (the Promise rejects)', async () => {
    const t = createTestContext({ input: SAL, handler: SalHandler });
    await assert.rejects((t.ctx.directory as unknown as { listEmployees(a: string): Promise<unknown> }).listEmployees('globex'),
      (e: unknown) => isFluxgateError(e) && e.code === 'FG_PLUGIN_PERMISSION');
  });

  test('ctx.directory refuses what the engine\'s stores refuse: a NUL, nothing in a required column, a boolean (FG_STORE_VALUE, nothing written)', async () => {
    const t = createTestContext({ input: SAL, handler: SalHandler });
    const employee = (ref: string, lastname: unknown): Employee => ({ organizationCode: 'ACME', registrationReference: ref, technicalId: null, email: null,
      lastname: lastname as string, firstname: 'F', active: true, departureDate: null, attributes: {} });
    const refusal = (column: string) => (e: unknown) => isFluxgateError(e) && e.code === 'FG_STORE_VALUE' && e.details.column === column;
    await assert.rejects(t.ctx.directory.createEmployee(employee('1', 'a\u0000b')), refusal('lastname'));
    await assert.rejects(t.ctx.directory.upsertEmployee(employee('2', null)), refusal('lastname'));
    await assert.rejects(t.ctx.directory.batch([{ method: 'createEmployee', args: [employee('3', 'Fine')] }, { method: 'createEmployee', args: [employee('4', undefined)] }]),
      (e: unknown) => refusal('lastname')(e) && isFluxgateError(e) && e.details.operation === 1);
    await assert.rejects(t.ctx.directory.upsertOrganization({ code: 'O', name: true as unknown as string, parentCode: null, attributes: {} }), refusal('name'));
    assert.deepEqual(t.directory.rows().employees, [], 'nothing written');
    // An optional column takes null, and an attribute may hold a NUL (JSON escapes it in the stores).
    assert.equal(await t.ctx.directory.createEmployee({ ...employee('5', 'Fine'), attributes: { note: 'a\u0000b' } }), true);
  });
});
