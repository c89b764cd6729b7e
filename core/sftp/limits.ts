import { FluxgateError } from '../errors';

/** `sftp.limits`, with `handlesTotal` resolved against the open-file limit (descriptor-limit.ts). */
export interface LimitSettings {
  connectionsPerAccount: number;
  sessionsPerConnection: number;
  sessionsPerAccount: number;
  handlesPerSession: number;
  handlesPerAccount: number;
  handlesTotal: number;
  devFilesPerAccount: number;
}

/** Something counted against a limit; `release` gives it back, once (later calls do nothing). */
export interface Slot {
  release(): void;
}

interface Usage {
  connections: number;
  sessions: number;
  handles: number;
}

/** Thrown (SFTP requests) or sent (channel refusals) when a limit is reached: the message names it. */
export function limitError(message: string, setting: string, limit: number): FluxgateError {
  return new FluxgateError('FG_LIMIT', message, { setting: `sftp.limits.${setting}`, limit });
}

/**
 * What every account holds at once over all its connections (logged-in connections, SSH session
 * channels, open SFTP handles), and the open handles of the whole server. One per SFTP service;
 * an account's entry goes away when it holds nothing.
 */
export class ResourceLimits {
  private readonly usage = new Map<string, Usage>();
  private handles = 0;

  constructor(readonly settings: LimitSettings) {}

  /** Open handles of all sessions (each holds a file descriptor, or will in a moment). */
  get openHandles(): number { return this.handles; }

  /** What the account holds now (zeros when nothing). */
  of(accountId: string): Readonly<Usage> {
    return this.usage.get(accountId) ?? { connections: 0, sessions: 0, handles: 0 };
  }

  /** A logged-in connection of the account, or the reason it is refused. */
  connect(accountId: string): Slot | FluxgateError {
    const max = this.settings.connectionsPerAccount;
    const u = this.entry(accountId);
    if (u.connections >= max) {
      this.forget(accountId, u);
      return limitError(`too many connections for account ${accountId} (limit ${max} per account): close one before connecting again`, 'connectionsPerAccount', max);
    }
    u.connections++;
    return this.slot(accountId, u, () => { u.connections--; });
  }

  /** An SSH session channel of the account, on a connection that has `onConnection` open already. */
  openSession(accountId: string, onConnection: number): Slot | FluxgateError {
    const perConnection = this.settings.sessionsPerConnection;
    if (onConnection >= perConnection) {
      return limitError(`too many sessions on this connection (limit ${perConnection} per connection)`, 'sessionsPerConnection', perConnection);
    }
    const max = this.settings.sessionsPerAccount;
    const u = this.entry(accountId);
    if (u.sessions >= max) {
      this.forget(accountId, u);
      return limitError(`too many sessions for account ${accountId} (limit ${max} per account, over all its connections): close one first`, 'sessionsPerAccount', max);
    }
    u.sessions++;
    return this.slot(accountId, u, () => { u.sessions--; });
  }

  /**
   * One open handle of the account, taken before its file descriptor is opened. Throws FG_LIMIT
   * naming the account's or the server's limit.
   */
  reserveHandle(accountId: string): Slot {
    const max = this.settings.handlesPerAccount;
    const u = this.entry(accountId);
    if (u.handles >= max) {
      this.forget(accountId, u);
      throw limitError(`too many open handles for account ${accountId} (limit ${max} per account, over all its sessions): close some before opening more`, 'handlesPerAccount', max);
    }
    const total = this.settings.handlesTotal;
    if (this.handles >= total) {
      this.forget(accountId, u);
      throw limitError(`the server has too many open handles (limit ${total} for all accounts): try again in a moment`, 'handlesTotal', total);
    }
    u.handles++;
    this.handles++;
    return this.slot(accountId, u, () => { u.handles--; this.handles--; });
  }

  private entry(accountId: string): Usage {
    let u = this.usage.get(accountId);
    if (!u) this.usage.set(accountId, (u = { connections: 0, sessions: 0, handles: 0 }));
    return u;
  }

  private forget(accountId: string, u: Usage): void {
    if (u.connections === 0 && u.sessions === 0 && u.handles === 0 && this.usage.get(accountId) === u) this.usage.delete(accountId);
  }

  private slot(accountId: string, u: Usage, give: () => void): Slot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        give();
        this.forget(accountId, u);
      },
    };
  }
}
