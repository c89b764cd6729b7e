import type { Connection } from 'ssh2';
import type { Logger } from '../logging/logger';
import { refuseSessionsWith } from './channel-refusal';
import type { ResourceLimits, Slot } from './limits';

/**
 * What one logged-in connection holds under `sftp.limits`: its place among the account's
 * connections and its session channels. Everything is given back when the connection closes
 * (ssh2 emits no 'close' for the sessions of a connection that drops).
 */
export class ConnectionLimits {
  private accountId?: string;
  private connection?: Slot;
  /** Set when the account was at its connection limit at login: what every channel is refused with. */
  private overLimit?: string;
  private readonly sessions = new Set<Slot>();

  constructor(private readonly client: Connection, private readonly limits: ResourceLimits, private readonly log: () => Logger) {
    refuseSessionsWith(client, () => this.refusal(), (reason) => this.refused(reason));
  }

  /**
   * The connection logged in to `accountId`. Over the account's connection limit it stays
   * logged in but may open nothing: its channels are refused with the reason, then it is closed
   * (after `closeAfterSeconds` if it opens none).
   */
  loggedIn(accountId: string, closeAfterSeconds: number): void {
    this.accountId = accountId;
    const counted = this.limits.connect(accountId);
    if ('release' in counted) {
      this.connection = counted;
      return;
    }
    this.overLimit = counted.message;
    this.log().warn({ limit: counted.details.limit, setting: counted.details.setting }, 'connection refused: too many connections for this account');
    setTimeout(() => this.client.end(), closeAfterSeconds * 1000).unref();
  }

  /** Why one more session channel would be refused now (nothing is counted). */
  refusal(): string | undefined {
    if (this.overLimit !== undefined || this.accountId === undefined) return this.overLimit ?? 'not logged in';
    const trial = this.limits.openSession(this.accountId, this.sessions.size);
    if (!('release' in trial)) return trial.message;
    trial.release();
    return undefined;
  }

  /** Counts a session channel ssh2 offers (normally already checked by refusal()); undefined: refused, with a log line. */
  openSession(): Slot | undefined {
    const counted = this.overLimit === undefined && this.accountId !== undefined ? this.limits.openSession(this.accountId, this.sessions.size) : undefined;
    if (!counted || !('release' in counted)) {
      this.refused(this.overLimit ?? counted?.message ?? 'not logged in');
      return undefined;
    }
    this.sessions.add(counted);
    return {
      release: () => {
        if (this.sessions.delete(counted)) counted.release();
      },
    };
  }

  /** The connection closed. */
  releaseAll(): void {
    this.connection?.release();
    for (const slot of this.sessions) slot.release();
    this.sessions.clear();
  }

  private refused(reason: string): void {
    this.log().warn({ sessions: this.sessions.size, reason }, 'session refused');
    if (this.overLimit !== undefined) this.client.end();
  }
}
