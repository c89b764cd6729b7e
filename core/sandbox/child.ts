/**
 * The sandbox process of a plugin (config `plugins:`): started by sandboxed-handler.ts under
 * Node's permission model with exactly the manifest's grants, it loads the plugin's bundle,
 * runs its handler on one file and ends. The context it gives the handler is local where the
 * grants allow it (the input's records, ctx.files inside the granted paths, both through the
 * engine's own code) and reaches the engine for the rest: ctx.directory (a call waits for its
 * answer, a batch is answered while the plugin goes on), ctx.report (batched), ctx.log:
 * `node child.js <requests FIFO> <answers FIFO> <batches folder>` (frames.ts, child-channel.ts, batch-spool.ts).
 *
 * `node child.js describe` reads a bundle on stdin and prints the manifests of its handler classes.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { Module } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { DataPaths } from '../config/paths';
import type { FluxContext, IncomingFile } from '../plugin-api/context';
import type { AccountDirectory } from '../plugin-api/directory';
import type { FluxHandler } from '../plugin-api/handler';
import { injectionUsed } from '../plugin-api/injection';
import { PluginTokens } from '../plugin-api/tokens';
import { getManifest, type FluxManifest } from '../plugin-api/manifest';
import { FileRejection } from '../plugin-api/outcome';
import type { RecordReaderOptions, SourceRecord } from '../plugin-api/records';
import type { ReportBuilder, ReportMessage } from '../plugin-api/report';
import type { FluxCounts } from '../plugin-api/outcome';
import { enablePluginLoading } from '../workflow/plugin-loader';
import { CollectingReportBuilder } from '../workflow/report-builder';
import { ManifestScopedFiles } from '../workflow/scoped-files';
import { findAccessDenied, permissionError } from './access-denied';
import { encodeBatch } from './batch-wire';
import { ChildChannel } from './child-channel';
import { sandboxRecords } from './child-records';
import { installNetworkGuard } from './network-guard';
import { threadCpuMs, type SandboxTimings } from './run-timings';
import { decodeResults, encodeArgs, toWireError, type ChildMessage, type Job, type PluginBundle, type ReportItem, type WireResults } from './protocol';

let channel: ChildChannel;
/** Report items (or counts) sent at once. */
const REPORT_BATCH = 512;

function loadBundle(bundle: PluginBundle): Record<string, unknown> {
  enablePluginLoading(); // `fluxgate/plugin-api` and the server's sources by path resolve to dist/
  const m = new Module(bundle.filename) as Module & { _compile(code: string, file: string): void; paths: string[]; filename: string };
  m.filename = bundle.filename;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(bundle.filename));
  m._compile(bundle.code, bundle.filename);
  return m.exports as Record<string, unknown>;
}

function handlerClasses(mod: Record<string, unknown>): Array<{ name: string; cls: new () => FluxHandler; manifest: FluxManifest }> {
  // This module runs from the server's dist/, where `fluxgate/plugin-api` resolves too: one
  // plugin API instance (one manifest registry, one FileRejection class) for plugin and context.
  return Object.entries(mod).flatMap(([name, value]) => {
    const manifest = getManifest(value);
    return manifest ? [{ name, cls: value as new () => FluxHandler, manifest }] : [];
  });
}

function send(message: ChildMessage): void { channel.send(message); }

function ask(message: ChildMessage): unknown { return channel.ask(message); }

/**
 * ctx.report: kept here for the handler's reads (counts, messages) by the engine's own
 * collector, whose caps are the engine's: a message it drops is not sent, only tallied (sent
 * with the next batch of items). The rest goes to the engine in batches.
 */
class BatchedReport implements ReportBuilder {
  private readonly kept = new CollectingReportBuilder();
  private pending: ReportItem[] = [];
  private tally: FluxCounts = { created: 0, updated: 0, unchanged: 0, rejected: 0 };
  private dropped = 0;
  private tallied = false;

  add(message: ReportMessage): void {
    const dropped = this.kept.dropped;
    this.kept.add(message);
    if (this.kept.dropped === dropped) this.queue({ add: { ...message } });
    else this.tallyOnly(undefined, 1);
  }

  count(kind: keyof FluxCounts, entityId?: string, line?: number): void {
    const listed = this.kept.messages.length;
    const dropped = this.kept.dropped;
    this.kept.count(kind, entityId, line);
    if (this.kept.messages.length === listed) {
      this.tallyOnly(kind, this.kept.dropped - dropped);
      return;
    }
    const last = this.pending[this.pending.length - 1];
    if (last && 'counts' in last && last.counts.length < REPORT_BATCH * 3) {
      last.counts.push(kind, entityId ?? null, line ?? null);
      if (last.counts.length >= REPORT_BATCH * 3) this.flush();
    } else {
      this.queue({ counts: [kind, entityId ?? null, line ?? null] });
    }
  }

  get counts(): Readonly<FluxCounts> { return this.kept.counts; }
  get messages(): readonly ReportMessage[] { return this.kept.messages; }

  private tallyOnly(kind: keyof FluxCounts | undefined, dropped: number): void {
    if (kind) this.tally[kind]++;
    this.dropped += dropped;
    this.tallied = true;
  }

  private queue(item: ReportItem): void {
    this.pending.push(item);
    if (this.pending.length >= REPORT_BATCH) this.flush();
  }

  flush(): void {
    if (this.tallied) {
      // After the items before it, which the engine's report keeps in order.
      this.pending.push({ tally: this.tally, dropped: this.dropped });
      this.tally = { created: 0, updated: 0, unchanged: 0, rejected: 0 };
      this.dropped = 0;
      this.tallied = false;
    }
    if (this.pending.length === 0) return;
    send({ t: 'report', items: this.pending });
    this.pending = [];
  }
}

/**
 * ctx.directory in the sandbox: a call is one frame to the engine and its answer (read at once:
 * see frames.ts), a batch one frame whose answer is read later; both return Promises, errors
 * included (never thrown by the call).
 */
function remoteDirectory(): AccountDirectory {
  const methods = ['getOrganization', 'listOrganizations', 'upsertOrganization', 'getEmployee', 'findEmployees', 'listEmployees',
    'upsertEmployee', 'createEmployee', 'updateEmployee', 'removeEmployee', 'previousEmployee', 'forgetPrevious', 'getUser',
    'listUsers', 'upsertUser', 'getDocument', 'listDocuments', 'upsertDocument'];
  const dir: Record<string, unknown> = {};
  for (const method of methods) {
    dir[method] = (...args: unknown[]) => new Promise((resolve) => { resolve(ask({ t: 'call', method, args: encodeArgs(args) })); });
  }
  // Checked by the engine (account-directory.ts applyBatch), as a call is.
  dir.batch = (ops: unknown) => channel.request({ t: 'batch', ops: encodeBatch(ops) }).then((r) => decodeResults(r as WireResults));
  return Object.freeze(dir) as AccountDirectory;
}

type SandboxLogger = FluxContext['log'] & { child(bindings: object): SandboxLogger };

/** ctx.log and PluginTokens.Logger: lines go to the engine's log (pino-like, `child` included). */
function logger(bindings: object = {}): SandboxLogger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (obj: object | string, msg?: string) => {
    const [o, m] = typeof obj === 'string' ? [{}, obj] : [obj as Record<string, unknown>, msg];
    send({ t: 'log', level, obj: JSON.parse(JSON.stringify({ ...bindings, ...o })) as Record<string, unknown>, msg: m });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => logger({ ...bindings, ...more }) };
}

async function run(job: Job): Promise<void> {
  const report = new BatchedReport();
  const view = { manifest: job.manifest, accountId: job.settings.account.id, accountRoot: job.accountRoot, vaultRoot: job.vaultRoot };
  const fail = (err: unknown): void => {
    report.flush();
    const wire = toWireError(err);
    const denied = findAccessDenied(err);
    send({ t: 'failed', error: denied ? permissionError(denied, view, wire) : { ...wire, rejection: err instanceof FileRejection } });
  };
  process.on('uncaughtException', (err) => { fail(err); process.exit(1); });
  process.on('unhandledRejection', (err) => { fail(err); process.exit(1); });
  installNetworkGuard(job.manifest.permissions.network);

  const found = handlerClasses(loadBundle(job.bundle)).find((h) => h.name === job.className);
  if (!found) throw new Error(`the plugin module ${job.bundle.filename} no longer exports ${job.className}`);
  const handler = construct(found.cls, job);
  const paths = { accountRoot: () => job.accountRoot, vault: () => job.vaultRoot } as unknown as DataPaths;
  const incoming: IncomingFile = { ...job.incoming, receivedAt: new Date(job.incoming.receivedAt) };
  const signal = new AbortController().signal; // the engine stops a sandbox by ending its process
  const ctx: FluxContext = {
    file: incoming,
    inputPath: job.inputPath,
    openInput: (): Readable => createReadStream(job.inputPath),
    records: (options: RecordReaderOptions): AsyncIterable<SourceRecord> => sandboxRecords(channel, options, job.inputPath, job.fileName),
    files: new ManifestScopedFiles(paths, job.settings.account.id, job.manifest, false), // no fchmod under --permission
    report,
    directory: remoteDirectory(),
    log: logger(),
    signal,
    apply: job.apply,
    attempt: job.attempt,
    settings: job.settings,
    fetch: (input, init) => fetch(input, init),
  };
  try {
    const timing = startTiming();
    const outcome = await handler.handle(incoming, ctx);
    report.flush();
    send({ t: 'done', outcome: JSON.parse(JSON.stringify(outcome ?? {})) as never, timings: timing.end() });
  } catch (err) {
    fail(err);
  }
}

/**
 * The handler's run as run-timings.ts describes it: waiting is its event loop's idle time (a
 * batch's answer awaited, polled for) and its blocked reads of answers.
 */
function startTiming(): { end(): SandboxTimings } {
  const startMs = performance.now(); // from the process's start
  const loop = performance.eventLoopUtilization();
  const cpu = threadCpuMs();
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => { for (const entry of list.getEntries()) gcMs += entry.duration; });
  gc.observe({ entryTypes: ['gc'] });
  return {
    end() {
      gc.disconnect();
      const { idle } = performance.eventLoopUtilization(loop);
      return { startMs, connectMs: channel.connectMs, handlerMs: performance.now() - startMs, waitMs: idle + channel.blockedMs, cpuMs: threadCpuMs() - cpu, gcMs };
    },
  };
}

/**
 * The handler, constructed as the server's plugin container would (core/composition/plugins.ts):
 * PluginTokens only. One that takes nothing, whose plugin used no `inject`/`injectable` and that
 * carries no decorator metadata (inversify's, from a direct import) is made with `new`, without
 * loading inversify (core/plugin-api/injection.ts).
 */
function construct(cls: new () => FluxHandler, job: Job): FluxHandler {
  const metadata = (Reflect as { getMetadataKeys?: (target: object) => unknown[] }).getMetadataKeys?.(cls) ?? [];
  if (cls.length === 0 && !injectionUsed() && metadata.length === 0) return new cls();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- only for a handler that injects (above)
  const { Container } = require('inversify') as typeof import('inversify');
  const container = new Container();
  container.bind(PluginTokens.Logger).toConstantValue(logger());
  container.bind(PluginTokens.Config).toConstantValue(job.config);
  container.bind(cls).toSelf();
  return container.get<FluxHandler>(cls);
}

function describe(): void {
  installNetworkGuard(false); // a module's top level runs here: nothing granted
  const bundle = JSON.parse(readFileSync(0, 'utf8')) as PluginBundle;
  const classes = handlerClasses(loadBundle(bundle)).map((h) => ({ name: h.name, manifest: h.manifest }));
  process.stdout.write(JSON.stringify(classes));
}

if (process.argv[2] === 'describe') {
  describe();
} else {
  // The engine's FIFOs, by path (granted to this process alone).
  channel = new ChildChannel(process.argv[2], process.argv[3], process.argv[4], () => process.exit(70)); // 70: the engine is gone
  const job = channel.read<Job>();
  run(job).then(() => process.exit(0), (err: unknown) => {
    send({ t: 'failed', error: toWireError(err) });
    process.exit(1);
  });
}
