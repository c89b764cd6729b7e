import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from './clients';
import { freePort, Haproxy } from './haproxy';
import { freshDatabase, type TestDatabase } from './postgres';
import { deepMerge, TestServer } from './server';
import { until } from './wait';

/** What haproxy connects to the nodes from (`source` on its server lines), the nodes' only trusted proxy. */
export const CLUSTER_PROXY = '127.0.0.9';

/** The haproxy backend the cluster runs behind (docs/cluster.md shows the same lines). */
export const CLUSTER_HAPROXY = {
  balance: 'roundrobin',
  // A connection refused by a dead node is tried on another (redispatch), rather than failed.
  backendLines: ['option tcp-check', 'tcp-check expect rstring ^SSH-2\\.0-', 'option redispatch', 'retries 3'],
  serverOptions: 'send-proxy-v2 check inter 1s fall 2 rise 1 check-send-proxy',
};

/** What killWhileHolding left behind. */
export interface KilledNode {
  pid: number;
  killedAt: number;
  /** Files finished (all nodes) when it was killed. */
  finishedBefore: number;
  /** The files whose jobs it held leased when it died. */
  orphaned: string[];
  /** When the last of its leases ends (epoch ms). */
  leaseEndsAt: number;
}

export interface ClusterOptions {
  /** How many nodes (default 3), named node-a, node-b, … */
  nodes?: number;
  /** Merged over every node's configuration (TestServer's defaults, then the cluster's). */
  config?: Record<string, unknown>;
  /** Environment variables added to every node's. */
  env?: NodeJS.ProcessEnv;
  /** Starts haproxy in front of the nodes (default true); without it, clients connect to each node's own port. */
  balancer?: boolean;
}

/**
 * Several real `fluxgate serve` processes on one fresh PostgreSQL database (`store.url`) and one
 * shared data directory, each with its own node id, SFTP port (kept across restarts, which is
 * what haproxy's server lines name) and config file, behind one haproxy in TCP mode that sends
 * each connection's PROXY v2 header from CLUSTER_PROXY, the nodes' only `cluster.trustedProxies`.
 */
export class TestCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'fg-cluster-'));
  readonly dataDir = join(this.dir, 'shared');
  readonly nodes: TestServer[] = [];
  /** The balancer in front of the nodes (unless started with `balancer: false`). */
  haproxy!: Haproxy;
  database!: TestDatabase;
  private readonly ports: number[] = [];

  constructor(private readonly options: ClusterOptions = {}) {}

  /** node-a, node-b, … */
  static nodeId(index: number): string { return `node-${String.fromCharCode(97 + index)}`; }

  async start(): Promise<this> {
    this.database = await freshDatabase();
    mkdirSync(this.dataDir);
    const count = this.options.nodes ?? 3;
    for (let i = 0; i < count; i++) this.ports.push(await freePort());
    // The first node migrates the schema alone; the others start together on it.
    this.nodes.push(await this.newNode(0).start());
    this.nodes.push(...await Promise.all(this.ports.slice(1).map((_, i) => this.newNode(i + 1).start())));
    if (this.options.balancer === false) return this;
    this.haproxy = await new Haproxy({
      ...CLUSTER_HAPROXY, source: CLUSTER_PROXY,
      backends: this.ports.map((port, i) => ({ name: TestCluster.nodeId(i), port })),
    }).start();
    return this;
  }

  /** The node's server as configured (a new TestServer, not started: its logs start empty). */
  private newNode(index: number): TestServer {
    const nodeDir = join(this.dir, TestCluster.nodeId(index));
    mkdirSync(nodeDir, { recursive: true });
    return new TestServer({
      dir: nodeDir,
      port: this.ports[index],
      env: this.options.env,
      config: deepMerge({
        dataDir: this.dataDir,
        store: { url: this.database.url },
        cluster: { nodeId: TestCluster.nodeId(index), trustedProxies: [`${CLUSTER_PROXY}/32`] },
      }, this.options.config ?? {}),
    });
  }

  /** SIGKILL: the node dies with its sessions, leases and files in progress. */
  async kill(index: number): Promise<void> { await this.nodes[index].kill(); }

  /**
   * Waits until node `index` is in the middle of a file's attempt (leased, begun) while at least
   * `minFinished` files are finished, then kills it (SIGKILL): what it held is orphaned, to be
   * taken over once its leases lapse.
   */
  async killWhileHolding(index: number, minFinished: number, timeoutMs = 120_000): Promise<KilledNode> {
    const pid = this.nodes[index].pid!;
    let finished = 0;
    await until(`${TestCluster.nodeId(index)} is in the middle of a file while ${minFinished} are finished`, async () => {
      finished = await this.finishedFiles();
      return finished >= minFinished && (await this.filesInAttemptBy(pid)).length > 0;
    }, timeoutMs, 50);
    await this.kill(index);
    const killedAt = Date.now();
    const orphaned = await this.filesLeasedBy(pid);
    const leases = await this.database.query<{ until: string }>(
      `SELECT max(lease_until) AS until FROM queue WHERE topic = 'file.process' AND state = 'leased' AND leased_pid = $1`, [pid]);
    return { pid, killedAt, finishedBefore: finished, orphaned, leaseEndsAt: Number(leases[0]?.until ?? killedAt) };
  }

  /** SIGTERM, then the same node (id, port, config) started again; resolves once it listens. */
  async restart(index: number): Promise<TestServer> {
    await this.nodes[index].stop();
    this.nodes[index] = await this.newNode(index).start();
    return this.nodes[index];
  }

  /** How many journal files are finished (processed, rejected or dead): of `ids` when given, else of all. */
  async finishedFiles(ids?: string[]): Promise<number> {
    const rows = await this.database.query<{ n: string }>(
      `SELECT count(*) AS n FROM files WHERE state IN ('processed', 'rejected', 'dead') AND ($1::text[] IS NULL OR id = ANY($1))`, [ids ?? null]);
    return Number(rows[0].n);
  }

  /** The ids of the files whose processing job the process `pid` holds leased right now (from the queue's leased_pid). */
  async filesLeasedBy(pid: number): Promise<string[]> {
    const rows = await this.database.query<{ payload: string }>(
      `SELECT payload FROM queue WHERE topic = 'file.process' AND state = 'leased' AND leased_pid = $1`, [pid]);
    return rows.map((r) => (JSON.parse(r.payload) as { fileId: string }).fileId);
  }

  /** The ids of the files the process `pid` holds leased and has begun (journal state processing): it is in the middle of their attempts. */
  async filesInAttemptBy(pid: number): Promise<string[]> {
    const rows = await this.database.query<{ id: string }>(`SELECT f.id FROM queue q JOIN files f ON f.id = (q.payload::json ->> 'fileId')
      WHERE q.topic = 'file.process' AND q.state = 'leased' AND q.leased_pid = $1 AND f.state = 'processing'`, [pid]);
    return rows.map((r) => r.id);
  }

  /** A CLI command with a node's config (the store is shared: any node's answers for all). */
  cli(...args: string[]): Promise<RunResult> { return this.nodes[0].cli(...args); }

  async cleanup(): Promise<void> {
    await this.haproxy?.stop();
    for (const node of this.nodes) await node.kill();
    await this.database?.drop().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const cluster = new TestCluster(options);
  try {
    return await cluster.start();
  } catch (err) {
    await cluster.cleanup();
    throw err;
  }
}
