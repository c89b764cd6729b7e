import type { Pool } from 'pg';
import type { Ban, BanRepository } from '../ports/bans';

interface BanRow { address: string; banned_at: string; banned_until: string; username: string; node_id: string | null }

const toBan = (r: BanRow): Ban => ({
  address: r.address, bannedAt: Number(r.banned_at), until: Number(r.banned_until), user: r.username, nodeId: r.node_id,
});

/**
 * Brute-force bans in PostgreSQL (migration 017's twin), on a pool: each method is one
 * statement, so no transaction. BIGINT columns arrive as strings from node-postgres (toBan
 * makes them numbers).
 */
export class PostgresBanRepository implements BanRepository {
  constructor(private readonly pool: Pool) {}

  async ban(ban: Ban): Promise<void> {
    // A later ban replaces an earlier one; one that ends sooner leaves the longer in place.
    await this.pool.query(`INSERT INTO bans (address, banned_at, banned_until, username, node_id) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (address) DO UPDATE SET banned_at = excluded.banned_at, banned_until = excluded.banned_until,
        username = excluded.username, node_id = excluded.node_id
      WHERE excluded.banned_until > bans.banned_until`, [ban.address, ban.bannedAt, ban.until, ban.user, ban.nodeId]);
  }

  async active(now = Date.now()): Promise<Ban[]> {
    const { rows } = await this.pool.query<BanRow>('SELECT * FROM bans WHERE banned_until > $1 ORDER BY address', [now]);
    return rows.map(toBan);
  }

  async lift(address: string, now = Date.now()): Promise<Ban | undefined> {
    const { rows } = await this.pool.query<BanRow>('DELETE FROM bans WHERE address = $1 RETURNING *', [address]);
    const row = rows[0];
    return row && Number(row.banned_until) > now ? toBan(row) : undefined;
  }

  async purgeEnded(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM bans WHERE banned_until < $1', [before])).rowCount ?? 0;
  }
}
