import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { FluxgateConfig } from '../config/schema';
import { DataPaths } from '../config/paths';
import { silentLogger } from '../logging/logger';
import type { DirectoryOp } from '../plugin-api/directory';
import type { FluxOutcome } from '../plugin-api/outcome';
import type { DirectoryRows, TestContext } from '../plugin-testing';
import { openDirectory, type DirectoryTarget } from '../store/directory-factory';
import type { StepRun } from '../workflow/step';
import type { SandboxedHandler } from './sandboxed-handler';

/**
 * `fluxgate plugin test` on a module listed under `plugins:`: its handler run in its sandbox, as
 * the server runs it (the manifest's grants for the file's account, its limits,
 * FG_PLUGIN_PERMISSION for anything else), but on the test context's temporary folder: the
 * directory's rows copied into a store of its own there, files written below it. Nothing of the
 * real data directory is read by the sandbox or written. Returns the outcome (or throws the
 * file's error) and the directory's rows after the run.
 */
export async function runInSandbox(handler: SandboxedHandler, t: TestContext, rows: Partial<DirectoryRows>, config: FluxgateConfig)
  : Promise<{ outcome?: FluxOutcome; error?: unknown; after: DirectoryRows }> {
  const paths = new DataPaths(t.root);
  const accountId = t.file.accountId;
  // A SQLite file of its own in the temporary folder, whatever the configured store.
  const target: DirectoryTarget = { engine: 'sqlite', database: paths.database };
  const opened = openDirectory(target);
  try {
    const store = opened.directory;
    // The rows before the run, in one unit of work.
    const before: DirectoryOp[] = [
      ...(rows.organizations ?? []).map((o): DirectoryOp => ({ method: 'upsertOrganization', args: [o] })),
      ...(rows.employees ?? []).map((e): DirectoryOp => ({ method: 'upsertEmployee', args: [e] })),
      ...(rows.users ?? []).map((u): DirectoryOp => ({ method: 'upsertUser', args: [u] })),
      ...(rows.documents ?? []).map((d): DirectoryOp => ({ method: 'upsertDocument', args: [d] })),
    ];
    await store.batch(accountId, before);
    mkdirSync(paths.work(accountId), { recursive: true });
    // What the sandbox's run reads of a step run (sandboxed-handler.ts): no journal, no workflow file.
    const run = {
      workflow: { limits: {} }, workDir: mkdtempSync(join(paths.work(accountId), 'plugin-test-')), paths,
      account: { id: accountId }, config, log: silentLogger(), event: () => undefined,
    } as unknown as StepRun;
    let outcome: FluxOutcome | undefined;
    let error: unknown;
    try {
      outcome = await handler.on({ directory: target }).handleRun(run, t.file, t.ctx);
    } catch (err) {
      error = err;
    }
    const after: DirectoryRows = {
      organizations: await store.listOrganizations(accountId), employees: await store.listEmployees(accountId),
      users: await store.listUsers(accountId), documents: await store.listDocuments(accountId),
    };
    return { outcome, error, after };
  } finally {
    await opened.close();
  }
}
