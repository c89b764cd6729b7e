import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from '../../core/config/paths';
import { configSchema } from '../../core/config/schema';
import { silentLogger } from '../../core/logging/logger';
import type { FluxContext, FluxManifest, FluxOutcome, IncomingFile } from '../../core/plugin-api';
import type { SandboxedHandler } from '../../core/sandbox/sandboxed-handler';
import { CollectingReportBuilder } from '../../core/workflow/report-builder';
import { REPO_ROOT } from './server';
import { ManifestScopedFiles } from '../../core/workflow/scoped-files';
import type { StepRun } from '../../core/workflow/step';

/**
 * One real sandboxed run of `handler` on `input` for account `acme` (exchange), outside a server:
 * the step run and context the engine would give (a child process under the permission model,
 * the engine's side on a worker thread). `flux`: the out/ folder its grants may name.
 */
export async function runSandboxed(handler: SandboxedHandler, paths: DataPaths, input: string, options: { manifest: FluxManifest; flux: string; fileId: string; name: string }):
  Promise<{ outcome: FluxOutcome; report: CollectingReportBuilder; events: string[]; details: Array<Record<string, unknown>> }> {
  const workDir = join(paths.root, 'work', options.fileId);
  mkdirSync(workDir, { recursive: true });
  mkdirSync(join(paths.accountRoot('acme'), 'out', options.flux), { recursive: true });
  const config = configSchema.parse({});
  const report = new CollectingReportBuilder();
  const events: string[] = [];
  const details: Array<Record<string, unknown>> = [];
  const run = {
    workflow: { limits: {} }, workDir, paths, account: { id: 'acme' }, config, log: silentLogger(), report,
    event: (type: string, detail: Record<string, unknown> = {}) => { events.push(type); details.push(detail); },
  } as unknown as StepRun;
  const incoming = { id: options.fileId, accountId: 'acme', name: options.name, receivedAt: new Date() } as IncomingFile;
  const ctx = {
    inputPath: input, apply: true, attempt: 1, report, signal: new AbortController().signal, log: silentLogger(),
    files: new ManifestScopedFiles(paths, 'acme', options.manifest),
    settings: { environment: 'test', account: { id: 'acme', profile: 'exchange', partner: null, options: {} }, userProfiles: [], documents: config.documents },
  } as unknown as FluxContext;
  const outcome = await handler.handleRun(run, incoming, ctx);
  return { outcome, report, events, details };
}

/**
 * The built-in sal handler as a plugin module in `dir` (a subclass registered as flux `salsb`, the
 * built-in keeping `sal`), for runs through the sandbox: its path.
 */
export function writeSandboxedSal(dir: string): string {
  const file = join(dir, 'sandboxed-sal.ts');
  writeFileSync(file, [
    "import { fluxHandler, getManifest } from 'fluxgate/plugin-api';",
    `import { SalHandler } from ${JSON.stringify(join(REPO_ROOT, 'plugins', 'sal', 'handler'))};`,
    'export class SandboxedSal extends SalHandler {}',
    "fluxHandler({ ...getManifest(SalHandler)!, flux: 'salsb' })(SandboxedSal);", '',
  ].join('\n'));
  return file;
}
