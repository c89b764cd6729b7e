import type { Ban, BanRepository } from '../ports/bans';
import type { PgPool } from './pool';

/** BIGINT columns read as numbers (PgPool's type parser). */
interface BanRow { address: string; banned_at: number; banned_until: number; username: string; node_id: string | null }

const toBan = (r: BanRow): Ban => ({
  address: r.address, bannedAt: r.banned_at, until: r.banned_until, user: r.username, nodeId: r.node_id,
});

/**
 * Brute-force bans in PostgreSQL (migration 017's twin), on the store's pool: each method is one
 * statement, so no transaction. Through PgPool, as every repository, so that a database without
 * the schema says FG_STORE_NOT_MIGRATED (`fluxgate bans`) rather than PostgreSQL's raw error.
 */
export class PostgresBanRepository implements BanRepository {
  constructor(private readonly pool: PgPool) {}

  async ban(ban: Ban): Promise<void> {
    // A later ban replaces an earlier one; one that ends sooner leaves the longer in place.
    await this.pool.run(`INSERT INTO bans (address, banned_at, banned_until, username, node_id) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (address) DO UPDATE SET banned_at = excluded.banned_at, banned_until = excluded.banned_until,
        username = excluded.username, node_id = excluded.node_id
      WHERE excluded.banned_until > bans.banned_until`, [ban.address, ban.bannedAt, ban.until, ban.user, ban.nodeId]);
  }

  async active(now = Date.now()): Promise<Ban[]> {
    const rows = await this.pool.rows<BanRow>('SELECT * FROM bans WHERE banned_until > $1 ORDER BY address', [now]);
    return rows.map(toBan);
  }

  async lift(address: string, now = Date.now()): Promise<Ban | undefined> {
    const row = await this.pool.row<BanRow>('DELETE FROM bans WHERE address = $1 RETURNING *', [address]);
    return row && row.banned_until > now ? toBan(row) : undefined;
  }

  async purgeEnded(before: number): Promise<number> {
    return this.pool.run('DELETE FROM bans WHERE banned_until < $1', [before]);
  }
}
