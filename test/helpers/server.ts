import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { run, type RunResult } from './clients';
import { dropStoreFor, ensureStoreFor, openTestStore, storeEnvFor, storeUrlFor, type TestStore } from './test-store';

/** Servers still running; killed if the test process ends first, so none outlives its test file. */
const live = new Set<ChildProcess>();
function killAll(): void { for (const child of live) child.kill('SIGKILL'); }
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { killAll(); process.exit(128 + (signal === 'SIGINT' ? 2 : 15)); });
}

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const BIN = join(REPO_ROOT, 'bin', 'fluxgate.js');

export interface TestServerOptions {
  /** Merged over the test defaults and written to the server's config file. */
  config?: Record<string, unknown>;
  /** Reuse a directory (e.g. to restart on the same data). */
  dir?: string;
  /** Extra options for the server's node (e.g. `--cpu-prof` from a benchmark). */
  nodeArgs?: string[];
  /** A command that runs the server by exec (its pid stays the server's), e.g. `['prlimit', '--nofile=600:600']`. */
  wrapper?: string[];
  /** The `fluxgate` entry to run (default: this repository's bin/fluxgate.js), e.g. from another install. */
  bin?: string;
  /** Environment variables added to the server's. */
  env?: NodeJS.ProcessEnv;
  /** The SFTP port to listen on (default: a free one, `--port 0`): a node behind a balancer keeps its port across restarts. */
  port?: number;
}

/**
 * The real server as a child process (`fluxgate serve`), on a free port, with its own
 * config file and data directory in a temp dir. Logs (JSON lines) are kept for assertions.
 * Its store is the engine the run tests (test/helpers/test-store.ts): the SQLite file under the
 * data directory, or with FLUXGATE_TEST_STORE=postgres a PostgreSQL database of the data
 * directory's own (`store.url` in the config file, so the CLI runs on it too), dropped by
 * cleanup() with the directory; `store()` and `query()` read it whichever it is.
 */
export class TestServer {
  readonly dir: string;
  readonly dataDir: string;
  readonly configFile: string;
  port = 0;
  /** The operator API's base URL (`http://127.0.0.1:<port>`), when http is enabled. */
  httpUrl?: string;
  private readonly httpEnabled: boolean;
  logs: Array<Record<string, unknown>> = [];
  /** What the server printed on stderr (warnings, crashes). */
  stderr = '';
  /** Lines of its stdout that are not JSON log lines (e.g. V8's `--trace-gc` output), each with when it arrived (ms since the epoch). */
  otherOutput: Array<{ at: number; line: string }> = [];
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private testStore?: Promise<TestStore>;

  constructor(private readonly options: TestServerOptions = {}) {
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'fg-srv-'));
    // A given dataDir (several nodes sharing one) is the server's; else one in its directory.
    this.dataDir = typeof options.config?.dataDir === 'string' ? resolve(this.dir, options.config.dataDir) : join(this.dir, 'var');
    this.configFile = join(this.dir, 'fluxgate.yaml');
    const config = deepMerge({
      dataDir: this.dataDir,
      environment: 'test',
      log: { level: 'debug' },
      engine: { pollIntervalMs: 100, retry: { baseDelayMs: 100, maxDelayMs: 1000 } },
      // Host keys made once per test run and shared (generation is safe across servers): RSA 4096
      // costs seconds per server start otherwise.
      sftp: { port: 0, hostKeysDir: join(tmpdir(), 'fluxgate-test-hostkeys-shared') },
      // RSA 4096 generation takes seconds on a loaded 2-core machine; tests that need it say so.
      pgp: { keyType: 'curve25519' },
      // The operator API on a free port (its default, 8080, would clash between servers).
      http: { port: 0 },
      ...storeConfig(this.dataDir),
    }, options.config ?? {});
    writeFileSync(this.configFile, stringify(config));
    this.httpEnabled = (config.http as { enabled?: boolean }).enabled !== false;
  }

  /** Runs a CLI command against this server's config and data (the server may be running). */
  async cli(...args: string[]): Promise<RunResult> {
    await ensureStoreFor(this.dataDir);
    return run(process.execPath, [this.bin, '--config', this.configFile, ...args], { cwd: this.dir });
  }

  /** A CLI command given `input` on its standard input (`admin add --password-stdin`). */
  async cliWithInput(input: string, ...args: string[]): Promise<RunResult> {
    await ensureStoreFor(this.dataDir);
    return run(process.execPath, [BIN, '--config', this.configFile, ...args], { cwd: this.dir, input });
  }

  /** This test's own connection to the server's store (either engine), opened once, closed by cleanup(). */
  store(): Promise<TestStore> {
    this.testStore ??= openTestStore(this.dataDir);
    return this.testStore;
  }

  /** Raw SQL on the server's store, `?` placeholders on both engines (TestStore.query). */
  async query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]> {
    return (await this.store()).query<T>(sql, params);
  }

  async start(): Promise<this> {
    await ensureStoreFor(this.dataDir);
    const [command, ...wrapperArgs] = [...(this.options.wrapper ?? []), process.execPath];
    const child = spawn(command, [...wrapperArgs, ...(this.options.nodeArgs ?? []), this.bin, '--config', this.configFile, 'serve', '--port', String(this.options.port ?? 0)], {
      cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.options.env },
    });
    this.child = child;
    live.add(child);
    this.exited = new Promise((r) => child.once('exit', () => { live.delete(child); r(); }));
    let buffer = '';
    child.stderr.on('data', (d) => { this.stderr += d; });
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try { this.logs.push(JSON.parse(line) as Record<string, unknown>); } catch { this.otherOutput.push({ at: Date.now(), line }); }
      }
    });
    const listening = await this.waitForLog((l) => l.msg === 'listening' && typeof l.port === 'number', 30_000)
      .catch((err: Error) => { throw new Error(`${err.message}\nserver stderr:\n${this.stderr}`); });
    this.port = listening.port as number;
    if (this.httpEnabled) this.httpUrl = (await this.waitForLog((l) => l.msg === 'http listening', 30_000)).url as string;
    return this;
  }

  private get bin(): string { return this.options.bin ?? BIN; }

  /** The server process's pid (once started). */
  get pid(): number | undefined { return this.child?.pid; }

  /** Resolves with the first log line (past or future) matching the predicate. */
  async waitForLog(pred: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for a log line (${timeoutMs} ms)`);
      if (this.child && this.child.exitCode !== null) throw new Error(`server exited with ${this.child.exitCode}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Graceful stop (SIGTERM). */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Crash (SIGKILL): nothing gets to clean up. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async cleanup(): Promise<void> {
    await this.kill();
    const store = this.testStore;
    this.testStore = undefined;
    await (await store?.catch(() => undefined))?.close();
    if (!this.options.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      await dropStoreFor(this.dataDir);
    }
  }
}

/**
 * `fluxgate --data-dir <dataDir> <args>` with no config file, as an operator runs it, on the
 * store of the engine under test (FLUXGATE_STORE_URL for PostgreSQL: the data directory's own
 * database, test/helpers/test-store.ts).
 */
export async function cliOn(dataDir: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<RunResult> {
  const env = { ...await storeEnvFor(dataDir), ...opts.env };
  return run(process.execPath, [BIN, '--data-dir', dataDir, ...args], { cwd: opts.cwd ?? REPO_ROOT, input: opts.input, env });
}

export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  return new TestServer(options).start();
}

/** The config's `store` for the engine under test: none on SQLite (its file under dataDir). */
function storeConfig(dataDir: string): Record<string, unknown> {
  const url = storeUrlFor(dataDir);
  return url ? { store: { url } } : {};
}

/** `b` over `a`, objects merged key by key (arrays replaced). */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}
