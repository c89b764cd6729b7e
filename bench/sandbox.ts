/**
 * `npm run bench:sandbox`: what running a plugin in its sandbox (core/sandbox) costs.
 *   (1) loading a plugin module: compiling it (esbuild) and reading its manifests in a sandbox;
 *   (2) per file: the handler step of a plugin that does nothing, as the journal's `sandbox` event
 *       times it (process start under the permission model, the engine's worker thread and its
 *       store connection, loading the plugin API and the plugin, the FIFOs), median of BENCH_FILES;
 *   (3) ctx.directory calls over the sandbox's IPC (each a round trip, awaited), per second;
 *   (4) report items (batched), per second.
 * Env: BENCH_FILES (default 20), BENCH_CALLS (default 50000).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPaths } from '../core/config/paths';
import { bundlePlugin, describePlugin } from '../core/sandbox/plugin-bundle';
import { sftpBatch } from '../test/helpers/clients';
import { TestServer } from '../test/helpers/server';
import { createAccount, JournalProbe } from '../test/e2e/engine-support';

const FILES = Number(process.env.BENCH_FILES ?? 20);
const CALLS = Number(process.env.BENCH_CALLS ?? 50_000);

const PLUGIN = `
import { fluxHandler, type FluxContext, type FluxHandler, type IncomingFile } from 'fluxgate/plugin-api';
@fluxHandler({ apiVersion: 2, flux: 'nop', profiles: ['exchange'], permissions: { read: ['in/nop'], write: ['out/nop'], network: false } })
export class NopHandler implements FluxHandler {
  async handle(_file: IncomingFile, ctx: FluxContext) {
    const [what, n] = require('node:fs').readFileSync(ctx.inputPath, 'utf8').trim().split(' ');
    const started = performance.now();
    if (what === 'calls') for (let i = 0; i < Number(n); i++) await ctx.directory.getEmployee('ACME', String(i));
    if (what === 'report') for (let i = 0; i < Number(n); i++) ctx.report.count('unchanged');
    const ms = performance.now() - started;
    return { result: 'processed' as const, summary: String(ms) };
  }
}
`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-sandbox-'));
  const plugin = join(dir, 'nop.ts');
  writeFileSync(plugin, PLUGIN);
  const workflows = join(dir, 'workflows');
  mkdirSync(workflows);
  writeFileSync(join(workflows, 'nop.yaml'), 'flux: nop\nnaming: {extensions: [txt]}\nsteps: [handler, report, archive]\n');
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    describePlugin(bundlePlugin(plugin));
    loads.push(performance.now() - t);
  }
  console.log(`(1) loading a plugin module (compile + manifests from a sandbox): median ${median(loads).toFixed(0)} ms of 5 (${loads.map((x) => x.toFixed(0)).join(', ')})`);

  const server = new TestServer({ config: { log: { level: 'info' }, plugins: [plugin], workflowsDir: workflows, pgp: { signReports: false } } });
  try {
    const key = await createAccount(server, 'acme');
    const paths = new DataPaths(server.dataDir);
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'nop'));
    await server.start();
    const probe = new JournalProbe(server);
    const local = join(dir, 'up');
    mkdirSync(local);
    let stamp = 261121100000;
    const upload = async (content: string) => {
      const name = `ndmat_acme_acme_nop_${++stamp}.txt`;
      writeFileSync(join(local, name), content);
      const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${join(local, name)} in/nop/`]);
      if (put.code !== 0) throw new Error(put.stderr);
      const file = await probe.finished(name, 120_000);
      if (file.state !== 'processed') throw new Error(JSON.stringify(file.outcome));
      const sandbox = (await probe.events(file.id)).find((e) => e.type === 'sandbox');
      return { sandboxMs: Number((sandbox?.detail as { ms?: number }).ms), handlerMs: Number(file.outcome?.summary) };
    };
    const perFile: number[] = [];
    for (let i = 0; i < FILES; i++) perFile.push((await upload('nop 0')).sandboxMs);
    console.log(`(2) per file, a handler that does nothing: median ${median(perFile).toFixed(0)} ms of ${FILES} (min ${Math.min(...perFile).toFixed(0)}, max ${Math.max(...perFile).toFixed(0)})`);
    const calls = await upload(`calls ${CALLS}`);
    console.log(`(3) ctx.directory.getEmployee over IPC: ${CALLS} calls in ${calls.handlerMs.toFixed(0)} ms → ${Math.round(CALLS / calls.handlerMs * 1000).toLocaleString('en')} calls/s (${(calls.handlerMs * 1000 / CALLS).toFixed(1)} µs per round trip)`);
    const report = await upload(`report ${CALLS * 4}`);
    console.log(`(4) ctx.report.count, batched: ${CALLS * 4} items in ${report.handlerMs.toFixed(0)} ms in the plugin, ${report.sandboxMs} ms for the whole run → ${Math.round(CALLS * 4 / report.sandboxMs * 1000).toLocaleString('en')} items/s end to end`);
    console.log(`load average ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}, node ${process.version}`);
  } finally {
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
