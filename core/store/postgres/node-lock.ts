import type { Client } from 'pg';
import { redactStoreUrl } from '../../config/store-url';
import { FluxgateError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { connectPostgres } from './connect';

/**
 * The node id's lock is the one-bigint form of PostgreSQL's advisory locks, keyed by the id's
 * 64-bit hash (`hashtextextended`) with this bit set: with the 32 bits of `hashtext`, two
 * different ids could share a key (a few hundred thousand ids hold such pairs) and the second
 * node would be refused as if its id were taken. The bit keeps the node ids apart from the
 * other one-bigint keys (migrate.ts, copy.ts, directory-shapes.ts: small constants, below
 * 2^40); cron-repository.ts uses the two-int4 form, a space of its own.
 */
const NODE_LOCK_BIT = (1n << 62n).toString();
/** The lock's key from the node id ($1) and NODE_LOCK_BIT ($2), in SQL. */
const NODE_LOCK_KEY = '(hashtextextended($1, 0) | $2::bigint)';

/** Who holds a node id, as PostgreSQL knows the session holding its lock. */
interface Holder { client_addr: string | null; backend_start: Date | null; application_name: string | null }

/**
 * One `serve` per node id on a PostgreSQL store (cluster mode). The nodes share the data
 * directory, so the whole-directory lock (data-dir-lock.ts) cannot be theirs; what two
 * processes must not share is a node id: a starting node takes back the work of its own host's
 * dead processes and the heartbeat row is keyed by it. The lock is a session advisory lock
 * keyed by the node id, held by a connection of its own for the life of the process:
 * PostgreSQL releases it when that connection ends, however the process ends (SIGKILL
 * included), and the server's TCP keepalives (set short here) end the session of a machine
 * that vanished within about 25 s.
 */
export class PostgresNodeLock {
  private released = false;
  private retry?: NodeJS.Timeout;

  private constructor(
    private client: Client,
    private readonly url: string,
    readonly nodeId: string,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {
    this.watch(client);
  }

  /**
   * Takes the node id's lock, or throws FG_NODE_ID_TAKEN naming the session that holds it. If
   * the lock's connection is lost later (the database restarted, the network cut), so is the
   * lock: it is said at error and taken again every `retryMs` until it is held again.
   */
  static async acquire(url: string, nodeId: string, logger: Logger, retryMs = RETAKE_MS): Promise<PostgresNodeLock> {
    return new PostgresNodeLock(await take(url, nodeId), url, nodeId, logger, retryMs);
  }

  /** Gives the node id back (the end of the process would too). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.retry);
    await this.client.end().catch(() => {});
  }

  private watch(client: Client): void {
    client.on('error', () => {}); // the 'end' that follows says it
    client.once('end', () => {
      if (this.released) return;
      this.logger.error({ component: 'node-lock', nodeId: this.nodeId, code: 'FG_STORE_UNREACHABLE' },
        'the connection holding this node id\'s lock was lost: another serve with the same cluster.nodeId is not refused until it is taken again');
      this.retakeLater();
    });
  }

  private retakeLater(): void {
    this.retry = setTimeout(() => { void this.retake(); }, this.retryMs);
    this.retry.unref();
  }

  private async retake(): Promise<void> {
    if (this.released) return;
    try {
      const client = await take(this.url, this.nodeId);
      if (this.released) { await client.end().catch(() => {}); return; }
      this.client = client;
      this.watch(client);
      this.logger.info({ component: 'node-lock', nodeId: this.nodeId }, 'this node id\'s lock is held again');
    } catch (err) {
      this.logger.error({ component: 'node-lock', nodeId: this.nodeId, err }, 'this node id\'s lock cannot be taken again yet (tried again later)');
      this.retakeLater();
    }
  }
}

/** How long a node that lost its lock's connection waits before it takes the lock again. */
const RETAKE_MS = 5_000;

/** A connection of its own holding the node id's session lock, or FG_NODE_ID_TAKEN. */
async function take(url: string, nodeId: string): Promise<Client> {
  // application_name names the holder for a refused node (and in pg_stat_activity); PostgreSQL keeps 63 bytes.
  const client = await connectPostgres(url, { application_name: `fluxgate node ${nodeId}`.slice(0, 63) });
  try {
    await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
    const held = (await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${NODE_LOCK_KEY}) AS ok`, [nodeId, NODE_LOCK_BIT])).rows[0].ok;
    if (!held) throw takenError(nodeId, url, await holderOf(client, nodeId));
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
}

/** The session holding a node id's lock, read from pg_locks and pg_stat_activity (undefined if it is gone meanwhile). */
async function holderOf(client: Client, nodeId: string): Promise<Holder | undefined> {
  // A one-bigint key shows in pg_locks as its high 32 bits (classid) and low 32 bits (objid), objsubid 1.
  const rows = await client.query<Holder>(`
    WITH k AS (SELECT ${NODE_LOCK_KEY} AS key)
    SELECT host(a.client_addr) AS client_addr, a.backend_start, a.application_name
      FROM k, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid::bigint = ((k.key >> 32) & 4294967295) AND l.objid::bigint = (k.key & 4294967295)`, [nodeId, NODE_LOCK_BIT]);
  return rows.rows[0];
}

function takenError(nodeId: string, url: string, holder: Holder | undefined): FluxgateError {
  const from = holder?.client_addr ? `connected from ${holder.client_addr}` : 'connected through a local socket';
  const who = holder ? `${from} since ${holder.backend_start?.toISOString() ?? 'an unknown time'}` : 'which has just stopped: try again';
  return new FluxgateError('FG_NODE_ID_TAKEN',
    `the node id "${nodeId}" is in use by another fluxgate server on the store ${redactStoreUrl(url)} (${who}): give this node its own cluster.nodeId, or stop the other one first`,
    { nodeId, holderAddress: holder?.client_addr ?? undefined });
}
