import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ERROR_CODES, FluxgateError, type ErrorCode } from '../errors';
import type { FluxContext, IncomingFile } from '../plugin-api/context';
import type { FluxHandler } from '../plugin-api/handler';
import { DEFAULT_PLUGIN_LIMITS, type FluxManifest } from '../plugin-api/manifest';
import { FileRejection, type FluxCounts, type FluxOutcome } from '../plugin-api/outcome';
import { plainName } from '../workflow/naming';
import type { RunAwareHandler, StepRun } from '../workflow/step';
import { writeFrame } from './frames';
import type { DirectoryTarget } from '../store/directory-factory';
import type { HostWorkerData } from './host-worker';
import { hostWorkers } from './host-workers';
import { CHILD_ENTRY, runtimeReadPaths } from './plugin-bundle';
import { checkedSandboxTimings, type EngineTimings } from './run-timings';
import type { Job, PluginBundle, WireError, WorkerEvent } from './protocol';

/** Node ≥ 25 can refuse the network itself (`--allow-net`); Node 24 cannot (network-guard.ts). */
export const RUNTIME_HAS_NET_PERMISSION = process.allowedNodeEnvironmentFlags.has('--allow-net');
const OUTPUT_KEPT = 16 * 1024;

/** The store a sandbox's `ctx.directory` reads and writes, as data (it crosses to the host worker's thread). */
export interface SandboxStore {
  /** The configured store's directory: PostgreSQL on a node with store.url, else the data directory's SQLite file. */
  directory: DirectoryTarget;
  /** SQLite: the WAL checkpointer's write count (WalCheckpointer.sharedWriteCount): the sandbox's directory writes move it as the server's own do. */
  writes?: SharedArrayBuffer;
}

export interface SandboxedPlugin extends SandboxStore {
  bundle: PluginBundle;
  className: string;
  manifest: FluxManifest;
}

/** How a sandbox run ended, before it becomes an outcome or an error. */
interface Ending {
  event?: WorkerEvent & { t: 'done' | 'failed' };
  code: number | null;
  signal: NodeJS.Signals | null;
  killed?: 'timeout' | 'stopped';
  stderr: string;
  /** The host worker's side of run-timings.ts. */
  engine?: EngineTimings;
}

/**
 * A plugin handler (config `plugins:`) run in its own process for each file: Node's permission
 * model with exactly the manifest's grants for the file's account (read: the input, the read and
 * write grants; write: the write grants), no child process, worker, addon or inspector, a clean
 * environment, the network as network-guard.ts says, the heap of limits.memoryMb and at most
 * limits.secondsPerFile. The engine's side of the protocol runs on a worker thread (host-worker.ts).
 */
export class SandboxedHandler implements FluxHandler, RunAwareHandler {
  constructor(private readonly plugin: SandboxedPlugin) {}

  /** The same handler, its runs' directory in another store (`plugin test`: a temporary one). */
  on(store: SandboxStore): SandboxedHandler { return new SandboxedHandler({ ...this.plugin, ...store }); }

  handle(): Promise<FluxOutcome> {
    return Promise.reject(new FluxgateError('FG_INTERNAL', 'a sandboxed plugin runs through its step run (handleRun)'));
  }

  async handleRun(run: StepRun, incoming: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const { manifest } = this.plugin;
    const limits = { ...DEFAULT_PLUGIN_LIMITS, ...manifest.limits, ...run.workflow.limits };
    const requestPath = join(run.workDir, 'sandbox-requests');
    const answerPath = join(run.workDir, 'sandbox-answers');
    // An attempt cut short by a crash of the server may have left its FIFOs in the work folder.
    const recordsDir = join(run.workDir, 'sandbox-records');
    const batchesDir = join(run.workDir, 'sandbox-batches');
    for (const fifo of [requestPath, answerPath, recordsDir, batchesDir]) rmSync(fifo, { force: true, recursive: true });
    execFileSync('mkfifo', ['-m', '600', requestPath, answerPath]);
    // The FIFOs the engine sends the input's rows through, one per ctx.records() (host-worker.ts).
    mkdirSync(recordsDir, { mode: 0o700 });
    // The files the sandbox writes its batches to (batch-spool.ts).
    mkdirSync(batchesDir, { mode: 0o700 });
    // A granted folder and all below it, whether or not it exists yet (Node takes a path it
    // cannot find for a file: `/*` is what grants what will be created below it).
    const grant = (access: 'read' | 'write', paths: readonly string[]) => paths.flatMap((p) => {
      const dir = ctx.files.resolve(p, access);
      return [dir, join(dir, '*')];
    });
    const read = [...runtimeReadPaths(this.plugin.bundle.filename), ctx.inputPath, answerPath, recordsDir, join(recordsDir, '*'),
      ...grant('read', [...manifest.permissions.read, ...manifest.permissions.write])];
    const write = [requestPath, batchesDir, join(batchesDir, '*'), ...grant('write', manifest.permissions.write)];
    const network = manifest.permissions.network;
    const args = [
      '--permission', ...read.map((p) => `--allow-fs-read=${p}`), ...write.map((p) => `--allow-fs-write=${p}`),
      ...(RUNTIME_HAS_NET_PERMISSION && network !== false && !(Array.isArray(network) && network.length === 0) ? ['--allow-net'] : []),
      `--max-old-space-size=${limits.memoryMb}`,
      // V8 sizes its first old-generation limits from the maximum: under 256 MiB it ran 12-15
      // mark-compacts over a 200,000-row sal file (a sandbox's batches in flight get promoted),
      // 4-5 from half of it; the limit itself stays limits.memoryMb.
      `--initial-old-space-size=${Math.floor(limits.memoryMb / 2)}`,
      ...profilingArgs(),
      CHILD_ENTRY, requestPath, answerPath, batchesDir,
    ];
    const job: Job = {
      bundle: this.plugin.bundle, className: this.plugin.className, manifest,
      incoming: { ...incoming, receivedAt: incoming.receivedAt.toISOString() },
      settings: ctx.settings, apply: ctx.apply, attempt: ctx.attempt, inputPath: ctx.inputPath,
      fileName: plainName(incoming.name),
      accountRoot: run.paths.accountRoot(run.account.id), vaultRoot: run.paths.vault(run.account.id),
      config: { environment: run.config.environment, directory: { userProfiles: run.config.directory.userProfiles }, documents: ctx.settings.documents },
    };
    const started = performance.now();
    const ending = await this.runSandbox(run, args, { requestPath, answerPath, recordsDir, batchesDir, store: this.plugin.directory, job, writes: this.plugin.writes }, ctx, limits.secondsPerFile);
    const sandbox = ending.event?.t === 'done' ? checkedSandboxTimings(ending.event.timings) : undefined;
    await run.event('sandbox', { ms: Math.round(performance.now() - started), exit: ending.code, signal: ending.signal, sandbox, engine: ending.engine });
    return settle(ending, manifest, limits, run);
  }

  private runSandbox(run: StepRun, args: string[], data: HostWorkerData, ctx: FluxContext, seconds: number): Promise<Ending> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, args, { env: {}, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      const ending: Ending = { code: null, signal: null, stderr: '' };
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < OUTPUT_KEPT) stdout += d; });
      // Its end is kept (V8's out-of-memory message comes last).
      child.stderr.setEncoding('utf8').on('data', (d: string) => { ending.stderr = (ending.stderr + d).slice(-OUTPUT_KEPT); });
      const worker = hostWorkers.take(data);
      const kill = (why: 'timeout' | 'stopped') => { ending.killed ??= why; child.kill('SIGKILL'); };
      const timer = setTimeout(() => kill('timeout'), seconds * 1000);
      const onAbort = () => kill('stopped');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let childExited = false;
      let workerEnded = false;
      let unblocking: NodeJS.Timeout | undefined;
      const finish = () => {
        if (!childExited || !workerEnded) return;
        clearTimeout(timer);
        clearInterval(unblocking);
        ctx.signal.removeEventListener('abort', onAbort);
        if (stdout.trim()) ctx.log.debug({ output: stdout.slice(0, OUTPUT_KEPT) }, 'plugin output (stdout)');
        resolve(ending);
      };
      worker.on('message', (event: WorkerEvent) => {
        switch (event.t) {
          case 'report':
            for (const item of event.items) {
              if ('add' in item) ctx.report.add(item.add);
              else if ('counts' in item) countAll(ctx, item.counts);
              else run.report.addTally(item.tally ?? {}, item.dropped);
            }
            break;
          case 'log':
            ctx.log[event.level]({ ...event.obj, sandbox: true }, event.msg);
            break;
          case 'done':
          case 'failed':
            ending.event ??= event;
            break;
          case 'end':
            ending.engine = event.timings;
            break;
        }
      });
      worker.on('error', (err: Error) => { ending.event ??= { t: 'failed', error: { name: 'Error', message: `sandbox host: ${err.message}`, stack: err.stack } }; });
      worker.on('exit', () => {
        workerEnded = true;
        if (!childExited) child.kill('SIGKILL'); // the engine's side is gone: so is the run
        finish();
      });
      child.on('error', (err) => { ending.stderr += `\n${err.message}`; });
      child.on('exit', (code, signal) => {
        childExited = true;
        ending.code = code;
        ending.signal = signal;
        // The worker sees the child's ends of the FIFOs close; one the child never opened is opened
        // here instead, so the worker's open returns and it reads "gone".
        unblocking = setTimeout(() => { unblocking = unblockWorker(data); }, 200);
        finish();
      });
    });
  }
}

/**
 * FLUXGATE_SANDBOX_CPU_PROF=DIR (an absolute folder; for benchmarks, never in production): each
 * sandbox writes V8's CPU profile there (`--cpu-prof`). Under the permission model that needs
 * the inspector (`--allow-inspector`, which the model otherwise refuses: it can step around the
 * grants) and a write grant to DIR: every sandbox then has both, so this is a measuring tool, not a setting.
 */
function profilingArgs(): string[] {
  const dir = process.env.FLUXGATE_SANDBOX_CPU_PROF;
  if (!dir || !isAbsolute(dir)) return [];
  return ['--allow-inspector', '--cpu-prof', `--cpu-prof-dir=${dir}`, `--allow-fs-write=${dir}`, `--allow-fs-write=${join(dir, '*')}`];
}

/** The report counts of a ReportItem (protocol.ts): flat triples. */
function countAll(ctx: FluxContext, counts: Array<string | number | null>): void {
  for (let i = 0; i < counts.length; i += 3) {
    ctx.report.count(counts[i] as keyof FluxCounts, (counts[i + 1] ?? undefined) as string | undefined, (counts[i + 2] ?? undefined) as number | undefined);
  }
}

/** Opens the FIFOs' other ends for a worker still waiting on them, says "gone", drains its answers. */
function unblockWorker(data: HostWorkerData): NodeJS.Timeout {
  const requests = openSync(data.requestPath, constants.O_RDWR | constants.O_NONBLOCK);
  const answers = openSync(data.answerPath, constants.O_RDONLY | constants.O_NONBLOCK);
  try { writeFrame(requests, { t: 'gone' }); } catch { /* full: the worker is reading it */ }
  const scratch = Buffer.allocUnsafe(64 * 1024);
  const drain = setInterval(() => {
    try { while (readSync(answers, scratch) > 0) { /* discard */ } } catch { /* EAGAIN: empty */ }
  }, 20);
  drain.unref();
  const close = () => { clearInterval(drain); closeSync(requests); closeSync(answers); };
  setTimeout(close, 30_000).unref();
  return drain;
}

/** The outcome of a sandbox run, or the error the file fails with. */
function settle(ending: Ending, manifest: FluxManifest, limits: { memoryMb: number; secondsPerFile: number }, run: StepRun): FluxOutcome {
  const flux = manifest.flux;
  const { event } = ending;
  if (event?.t === 'done') return event.outcome;
  if (event?.t === 'failed') throw fromWire(event.error, run);
  const exit = ending.signal ? `signal ${ending.signal}` : `exit code ${ending.code}`;
  const stderr = ending.stderr.trim();
  let error: FluxgateError;
  if (ending.killed === 'timeout') {
    error = new FluxgateError('FG_PLUGIN_TIMEOUT', `the handler for flux "${flux}" took more than ${limits.secondsPerFile} s (limits.secondsPerFile) and was stopped`, { secondsPerFile: limits.secondsPerFile });
  } else if (/heap out of memory|Reached heap limit|allocation failed/i.test(stderr)) {
    error = new FluxgateError('FG_PLUGIN_MEMORY', `the handler for flux "${flux}" went over ${limits.memoryMb} MiB of heap (limits.memoryMb) and was stopped`, { memoryMb: limits.memoryMb });
  } else {
    error = new FluxgateError('FG_PLUGIN_CRASHED', `the handler for flux "${flux}" ended its process (${exit}) before returning an outcome`, { exit });
  }
  run.log.error({ code: error.code, exit, stderr: stderr.slice(-OUTPUT_KEPT) }, 'sandboxed plugin stopped');
  throw error;
}

function fromWire(wire: WireError, run: StepRun): Error {
  // The stack goes to the operator's log; the client's report gets the message.
  run.log.error({ code: wire.code, err: { name: wire.name, message: wire.message, stack: wire.stack } }, 'sandboxed plugin failed');
  const code = wire.code && wire.code in ERROR_CODES ? wire.code as ErrorCode : undefined;
  if (wire.rejection) return new FileRejection(code ?? 'FG_HANDLER_FAILED', wire.message, wire.details);
  if (code) return new FluxgateError(code, wire.message, wire.details ?? {});
  return Object.assign(new Error(wire.message), { name: wire.name });
}
