import type { Client } from 'pg';
import { redactStoreUrl } from '../../config/store-url';
import { FluxgateError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { connectPostgres } from './connect';

/** First key of the node locks (the second is the node id's hash): "flux", 5 (cron-repository.ts holds 3). */
const NODE_LOCK_CLASS = 0x666c7505;

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

  private constructor(private readonly client: Client, readonly nodeId: string) {}

  /** Takes the node id's lock, or throws FG_NODE_ID_TAKEN naming the session that holds it. */
  static async acquire(url: string, nodeId: string, logger: Logger): Promise<PostgresNodeLock> {
    // application_name names the holder for a refused node (and in pg_stat_activity); PostgreSQL keeps 63 bytes.
    const client = await connectPostgres(url, { application_name: `fluxgate node ${nodeId}`.slice(0, 63) });
    try {
      await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
      const held = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [NODE_LOCK_CLASS, nodeId])).rows[0].ok;
      if (!held) throw takenError(nodeId, url, await holderOf(client, nodeId));
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    const lock = new PostgresNodeLock(client, nodeId);
    // The connection lost (the database restarted, the network cut): so is the lock. Said loudly; the node keeps serving.
    client.on('error', (err) => {
      if (!lock.released) logger.error({ component: 'node-lock', nodeId, err, code: 'FG_STORE_UNREACHABLE' }, 'the connection holding this node id\'s lock was lost: another serve with the same cluster.nodeId would no longer be refused');
    });
    return lock;
  }

  /** Gives the node id back (the end of the process would too). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.client.end().catch(() => {});
  }
}

/** The session holding a node id's lock, read from pg_locks and pg_stat_activity (undefined if it is gone meanwhile). */
async function holderOf(client: Client, nodeId: string): Promise<Holder | undefined> {
  const rows = await client.query<Holder>(`
    SELECT host(a.client_addr) AS client_addr, a.backend_start, a.application_name
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
       AND l.classid::bigint = $1 AND l.objid::bigint = (hashtext($2)::bigint & 4294967295)`, [NODE_LOCK_CLASS, nodeId]);
  return rows.rows[0];
}

function takenError(nodeId: string, url: string, holder: Holder | undefined): FluxgateError {
  const from = holder?.client_addr ? `connected from ${holder.client_addr}` : 'connected through a local socket';
  const who = holder ? `${from} since ${holder.backend_start?.toISOString() ?? 'an unknown time'}` : 'which has just stopped: try again';
  return new FluxgateError('FG_NODE_ID_TAKEN',
    `the node id "${nodeId}" is in use by another fluxgate server on the store ${redactStoreUrl(url)} (${who}): give this node its own cluster.nodeId, or stop the other one first`,
    { nodeId, holderAddress: holder?.client_addr ?? undefined });
}
