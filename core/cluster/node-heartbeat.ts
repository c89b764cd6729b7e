import type { Logger } from '../logging/logger';
import { PROCESS_TOPIC } from '../queue/file-jobs';
import type { NodeRepository } from '../store/ports/nodes';
import type { Service } from '../tokens';

/** How often a running node records that it is alive. `fluxgate nodes` counts a node alive for 3 beats. */
export const HEARTBEAT_MS = 5000;

/**
 * This node's row in the `nodes` table (#20): written once the SFTP server listens (its address
 * is known then), beaten every HEARTBEAT_MS with the file jobs it holds, marked stopped at a
 * clean stop. A failed beat is logged and retried at the next: it must never stop the server.
 */
export class NodeHeartbeat implements Service {
  readonly name = 'node-heartbeat';
  private timer?: NodeJS.Timeout;
  private id?: string;
  /** The write under way (record, beat): the next one, and stop, wait for it. */
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly nodes: NodeRepository,
    /** The node's id and SFTP address, known once the SFTP server listens. */
    private readonly identity: () => { id: string; address: string },
    private readonly logger: Logger,
    private readonly intervalMs = HEARTBEAT_MS,
  ) {}

  start(): void {}

  /** After every service started: the SFTP server listens, so its address is known. */
  started(): Promise<void> {
    this.timer = setInterval(() => { this.current = this.beat(); }, this.intervalMs);
    this.timer.unref();
    return this.current = this.record();
  }

  private async record(): Promise<void> {
    try {
      const { id, address } = this.identity();
      await this.nodes.started({ id, address, startedAt: Date.now() });
      this.id = id;
    } catch (err) {
      this.logger.warn({ component: 'node-heartbeat', err }, 'this node could not be recorded in the nodes table (retried at the next heartbeat)');
    }
  }

  private async beat(): Promise<void> {
    await this.current; // one write at a time: a slow store never gets beats out of order
    if (this.id === undefined) return this.record();
    try {
      const now = Date.now();
      await this.nodes.beat(this.id, now, await this.nodes.leasedHere(PROCESS_TOPIC, now));
    } catch (err) {
      this.logger.warn({ component: 'node-heartbeat', err }, 'heartbeat not recorded (retried at the next one)');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
    if (this.id === undefined) return;
    try {
      await this.nodes.stopped(this.id, Date.now());
    } catch (err) {
      this.logger.warn({ component: 'node-heartbeat', err }, 'could not record this node as stopped');
    }
    this.id = undefined;
  }
}
