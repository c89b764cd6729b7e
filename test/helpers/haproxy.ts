import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** haproxy processes still running; killed if the test process ends first. */
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const child of live) child.kill('SIGKILL'); });

/** A TCP port nothing listens on right now (on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

export interface HaproxyOptions {
  /** The server's SFTP port (on 127.0.0.1), for one server (named node1). */
  backendPort?: number;
  /** Several servers (on 127.0.0.1), each with its name: a cluster's nodes. */
  backends?: Array<{ name: string; port: number }>;
  /** The backend's `balance` algorithm (default: haproxy's, roundrobin). */
  balance?: string;
  /** What haproxy connects to the server from (`source` on its server line): what cluster.trustedProxies names. */
  source: string;
  /** Words added to the server line, e.g. `send-proxy-v2 check inter 1s check-send-proxy`. */
  serverOptions: string;
  /** Lines added to the backend before its server line, e.g. `option tcp-check`. */
  backendLines?: string[];
}

/**
 * Debian's haproxy in TCP mode in front of a test server, run in the foreground (`-db`) with a
 * config written to a temp dir, listening on a free port of 127.0.0.1.
 */
export class Haproxy {
  port = 0;
  stderr = '';
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private readonly dir = mkdtempSync(join(tmpdir(), 'fg-haproxy-'));

  constructor(private readonly options: HaproxyOptions) {}

  /** The configuration file's text, as started (docs/cluster.md shows the cluster's). */
  config = '';

  async start(): Promise<this> {
    this.port = await freePort();
    const cfg = join(this.dir, 'haproxy.cfg');
    const backends = this.options.backends ?? [{ name: 'node1', port: this.options.backendPort! }];
    this.config = [
      'global',
      '  maxconn 200',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'frontend sftp',
      `  bind 127.0.0.1:${this.port}`,
      '  default_backend fluxgate',
      'backend fluxgate',
      ...(this.options.balance ? [`  balance ${this.options.balance}`] : []),
      ...(this.options.backendLines ?? []).map((line) => `  ${line}`),
      ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} source ${this.options.source} ${this.options.serverOptions}`),
      '',
    ].join('\n');
    writeFileSync(cfg, this.config);
    const child = spawn('/usr/sbin/haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    live.add(child);
    this.exited = new Promise((r) => child.once('exit', () => { live.delete(child); r(); }));
    child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    // Listening once a connection is accepted (closed at once: the server reads a header, then a close).
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${this.stderr}`);
      if (await accepts(this.port)) return this;
      if (Date.now() > deadline) throw new Error(`haproxy does not listen on ${this.port}:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
