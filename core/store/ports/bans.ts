/**
 * A brute-force ban: "address X is banned until T", shared by every node of the installation
 * (issue #20). The failures that lead to a ban are counted in memory on each node; only the ban
 * itself is written here, and every node's SFTP server reads the active bans (docs/sftp.md,
 * "Brute-force bans"). Times are epoch milliseconds.
 */
export interface Ban {
  /** The client address, canonical (IPv4-mapped IPv6 written as IPv4): the real client's behind a trusted proxy. */
  address: string;
  bannedAt: number;
  until: number;
  /** The last user name tried ('' when none was given). */
  user: string;
  /** The node that banned it (cluster.nodeId), null when not known. */
  nodeId: string | null;
}

/** The bans of every node, in the store. */
export interface BanRepository {
  /** Records a ban. An address banned already keeps whichever ban ends later. */
  ban(ban: Ban): Promise<void>;
  /** The bans still running at `now`, by address. */
  active(now?: number): Promise<Ban[]>;
  /** Lifts the address's ban; resolves to the ban lifted, or undefined when none was running. */
  lift(address: string, now?: number): Promise<Ban | undefined>;
  /** Deletes the bans that ended before `before` (they no longer count); resolves to how many. */
  purgeEnded(before: number): Promise<number>;
}
