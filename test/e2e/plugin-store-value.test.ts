import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import BetterSqlite3 from 'better-sqlite3';
import { DataPaths } from '../../core/config/paths';
import { parseJson } from '../helpers/json';
import type { TestKey } from '../helpers/keys';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { addAccount, uploadAndWait } from './fixtures-support';

// A plugin that writes a text PostgreSQL cannot hold (a NUL character), or no lastname (NOT NULL),
// on each store: both refuse it alike before writing (directory-tables.ts, checkColumn; SQLite's
// INSERT OR IGNORE used to skip a NULL lastname silently, the file reported processed). The store answers FG_STORE_VALUE, and as the same file would build the same value
// again, the file is dead at its first attempt (core/workflow/runner.ts, FATAL_CODES), not retried
// until its attempts run out. Real server, real sandboxed plugin. PostgreSQL on a database of its
// own, as serve-postgres.test.ts: both stores in every `npm test`, whichever the pass tests.
const skip = skipUnless('sftp', 'ssh-keygen');
const skipPostgres = skipUnless('postgres', 'sftp', 'ssh-keygen');

/**
 * A plain-JavaScript plugin outside the repository (fluxgate/plugin-api resolves to the server
 * itself): the file's first line says how it writes an employee whose lastname has a NUL, or none.
 */
const PLUGIN_SOURCE = `const fs = require('node:fs');
const { fluxHandler } = require('fluxgate/plugin-api');
const employee = (ref, lastname) => ({ organizationCode: 'ACME', registrationReference: ref, technicalId: null, email: null,
  lastname, firstname: 'N', active: true, departureDate: null, attributes: {} });
class NulHandler {
  async handle(file, ctx) {
    const how = fs.readFileSync(ctx.inputPath, 'utf8').trim();
    if (how === 'single') await ctx.directory.createEmployee(employee('N1', 'Nul\\u0000Here'), { sourceFile: file.id });
    else if (how === 'missing') await ctx.directory.upsertEmployee(employee('N4', null), { sourceFile: file.id });
    else await ctx.directory.batch([
      { method: 'createEmployee', args: [employee('N2', 'Fine'), { sourceFile: file.id }] },
      { method: 'createEmployee', args: [employee('N3', 'Nul\\u0000Here'), { sourceFile: file.id }] },
    ]);
    return { result: 'processed', summary: 'written' };
  }
}
fluxHandler({
  apiVersion: 2, flux: 'nul', description: 'Writes a lastname with a NUL character (test)', profiles: ['exchange'],
  permissions: { read: ['in/nul'], write: [], network: false },
})(NulHandler);
module.exports = { NulHandler };
`;

interface FileShown {
  id: string; state: string; attempts: number; report: string | null;
  outcome: { result: string; code?: string; summary?: string } | null;
  events: Array<{ type: string; code?: string }>;
}

for (const engine of ['postgres', 'sqlite'] as const) {
  describe(`a plugin writing a value no store can hold (a NUL, no lastname), on ${engine}`, { skip: engine === 'postgres' ? skipPostgres : skip }, () => {
    const root = mkdtempSync(join(tmpdir(), `fg-${engine}-nul-`));
    let db: TestDatabase | undefined;
    let server: TestServer;
    let key: TestKey;
    /** A query on the server's store, as an operator would run it. */
    const query = async <T extends Record<string, unknown>>(sql: string, params: unknown[]): Promise<T[]> => {
      if (db) return db.query<T>(sql, params);
      const sqlite = new BetterSqlite3(new DataPaths(server.dataDir).database, { readonly: true });
      try {
        return sqlite.prepare(sql.replace(/\$\d+/g, '?')).all(...params) as T[];
      } finally {
        sqlite.close();
      }
    };

    before(async () => {
      if (engine === 'postgres') db = await freshDatabase();
      const pluginDir = join(root, 'plugin');
      mkdirSync(pluginDir);
      writeFileSync(join(pluginDir, 'nul.js'), PLUGIN_SOURCE);
      const workflows = join(root, 'workflows');
      mkdirSync(workflows);
      writeFileSync(join(workflows, 'nul.yaml'), stringify({
        flux: 'nul', match: { profile: 'exchange', directory: 'in/nul' }, naming: { extensions: ['csv'] },
        steps: ['handler', 'report', 'archive'], 'on-error': ['report', 'quarantine'],
      }));
      server = new TestServer({ config: {
        ...(db ? { store: { url: db.url } } : {}), plugins: [join(pluginDir, 'nul.js')], workflowsDir: workflows, pgp: { signReports: false },
      } });
      await server.start();
      key = await addAccount(server, 'acme');
      mkdirSync(join(new DataPaths(server.dataDir).accountRoot('acme'), 'in', 'nul'), { recursive: true });
    });
    after(async () => {
      await server?.cleanup();
      await db?.drop();
      rmSync(root, { recursive: true, force: true });
    });

    const calls = { single: 'createEmployee with a NUL', batch: 'batch with a NUL', missing: 'upsertEmployee without a lastname' };
    for (const [n, how] of (['single', 'batch', 'missing'] as const).entries()) {
      test(`ctx.directory.${calls[how]}: FG_STORE_VALUE, the file dead at its first attempt (not retried), nothing written`, async () => {
        const name = `ndmat_acme_acme_nul_26112110000${n}.csv`;
        const local = join(root, name);
        writeFileSync(local, `${how}\n`);
        const listed = await uploadAndWait(server, 'acme', key, local, 'in/nul/');
        // As users see it: `files show --json`.
        const shown = await server.cli('files', 'show', listed.id, '--json');
        assert.equal(shown.code, 0, shown.stderr);
        const file = parseJson<FileShown>(shown.stdout);
        assert.equal(file.state, 'dead', JSON.stringify(file.outcome));
        assert.equal(file.outcome?.code, 'FG_STORE_VALUE', JSON.stringify(file.outcome));
        // The same refusal on both stores (directory-tables.ts, checkColumn), naming the column.
        assert.match(file.outcome?.summary ?? '', how === 'missing' ? /dir_employees\.lastname is required/ : /NUL character \(U\+0000\) for dir_employees\.lastname/);
        assert.equal(file.attempts, 1, `the value's fault, not the store's: not retried (${JSON.stringify(file.events)})`);
        assert.deepEqual(file.events.filter((e) => e.type === 'attempt-failed'), [], 'no attempt failed and waited for a retry');
        assert.equal(file.events.filter((e) => e.type === 'dead').length, 1);
        // The client's report names the code.
        assert.ok(file.report, 'a report is written');
        const report = readFileSync(file.report.startsWith('/') ? file.report : join(server.dataDir, 'sftp', 'acme', file.report), 'utf8');
        assert.match(report, /FG_STORE_VALUE/);
        // In the store itself: the journal row, and no employee of the file (a batch is all or nothing).
        const [row] = await query<{ state: string; attempts: number }>('SELECT state, attempts FROM files WHERE id = $1', [listed.id]);
        assert.deepEqual({ ...row }, { state: 'dead', attempts: 1 });
        const written = await query('SELECT registration_reference FROM dir_employees WHERE account_id = $1', ['acme']);
        assert.deepEqual(written, []);
      });
    }

    test(`the server ran on ${engine}`, () => {
      assert.equal(existsSync(new DataPaths(server.dataDir).database), engine === 'sqlite');
    });
  });
}
