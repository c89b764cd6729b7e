import type { Statement } from 'better-sqlite3';
import type { Database } from './database';
import type { Ban, BanRepository } from './ports/bans';

interface BanRow { address: string; banned_at: number; banned_until: number; username: string; node_id: string | null }

const toBan = (r: BanRow): Ban => ({
  address: r.address, bannedAt: r.banned_at, until: r.banned_until, user: r.username, nodeId: r.node_id,
});

/** Brute-force bans in SQLite (migration 017). */
export class SqliteBanRepository implements BanRepository {
  private readonly upsert: Statement;
  private readonly running: Statement;
  private readonly remove: Statement;
  private readonly purge: Statement;

  constructor(db: Database) {
    // A later ban replaces an earlier one; one that ends sooner leaves the longer in place.
    this.upsert = db.prepare(`INSERT INTO bans (address, banned_at, banned_until, username, node_id)
      VALUES (@address, @bannedAt, @until, @user, @nodeId)
      ON CONFLICT (address) DO UPDATE SET banned_at = excluded.banned_at, banned_until = excluded.banned_until,
        username = excluded.username, node_id = excluded.node_id
      WHERE excluded.banned_until > bans.banned_until`);
    this.running = db.prepare('SELECT * FROM bans WHERE banned_until > ? ORDER BY address');
    this.remove = db.prepare('DELETE FROM bans WHERE address = ? RETURNING *');
    this.purge = db.prepare('DELETE FROM bans WHERE banned_until < ?');
  }

  async ban(ban: Ban): Promise<void> {
    this.upsert.run(ban);
  }

  async active(now = Date.now()): Promise<Ban[]> {
    return (this.running.all(now) as BanRow[]).map(toBan);
  }

  async lift(address: string, now = Date.now()): Promise<Ban | undefined> {
    const row = this.remove.get(address) as BanRow | undefined;
    return row && row.banned_until > now ? toBan(row) : undefined;
  }

  async purgeEnded(before: number): Promise<number> {
    return this.purge.run(before).changes;
  }
}
