import type { Socket } from 'node:net';
import { canonicalAddress } from '../accounts/allowlist';
import type { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import { recordFailure, type BruteForceGuard } from './brute-force';
import { RefusalLog } from './refusal-log';

/** `sftp.maxStartups`, `sftp.maxStartupsPerAddress`, `sftp.loginGraceSeconds`, `sftp.bruteForce.banSeconds`. */
export interface StartupLimits {
  maxStartups: number;
  maxStartupsPerAddress: number;
  loginGraceSeconds: number;
  banSeconds: number;
}

/** One admitted connection, from TCP accept until it logs in or closes. */
export class Startup {
  /** The user name of the connection's last authentication attempt (set by the connection handler). */
  username?: string;
  graceHandler?: () => void;
  released = false;

  constructor(readonly address: string, readonly socket: Socket, private readonly gate: StartupGate) {}

  /** The connection logged in: it no longer counts against the limits, and its grace time stops. */
  authenticated(): void { this.gate.release(this); }

  /**
   * Called instead of the gate's own handling when the grace time runs out: the connection
   * handler logs, counts the failure and disconnects properly. The socket is destroyed a second
   * later whatever happens.
   */
  onGraceExpired(handler: () => void): void { this.graceHandler = handler; }
}

/**
 * Like OpenSSH's MaxStartups, PerSourceMaxStartups and LoginGraceTime, in front of ssh2: counts
 * connections that have not logged in yet, in total and per address, from the moment TCP
 * accepts them (before the client has sent anything), refuses those over either limit at once,
 * refuses banned addresses at once, and closes any connection that has not logged in within
 * the grace time, counting it as one authentication failure of its address.
 */
export class StartupGate {
  private total = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly live = new Map<Socket, { startup: Startup; timer: NodeJS.Timeout }>();
  private readonly refusals: RefusalLog;

  constructor(
    private readonly limits: StartupLimits,
    private readonly guard: BruteForceGuard,
    private readonly log: Logger,
    /** Where a ban this gate causes is said (the `login.banned` event). */
    private readonly events: UploadEvents,
    now: () => number = Date.now,
  ) {
    this.refusals = new RefusalLog(log, now);
  }

  /** Connections not logged in yet, in total. */
  get pending(): number { return this.total; }

  /** Admits a new TCP connection, or destroys it at once (and logs why). */
  admit(socket: Socket): Startup | undefined {
    if (!socket.remoteAddress) {
      socket.destroy();
      return undefined;
    }
    const address = canonicalAddress(socket.remoteAddress);
    const until = this.guard.bannedUntil(address);
    if (until) {
      this.refuse(socket, address, 'banned', 'connection refused: address banned after repeated failures', { until: new Date(until).toISOString() });
      return undefined;
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxStartupsPerAddress) {
      this.refuse(socket, address, 'address', 'connection refused: too many connections not logged in from this address',
        { notLoggedIn: fromAddress, limit: this.limits.maxStartupsPerAddress, setting: 'sftp.maxStartupsPerAddress' });
      return undefined;
    }
    if (this.total >= this.limits.maxStartups) {
      this.refuse(socket, address, 'total', 'connection refused: too many connections not logged in',
        { notLoggedIn: this.total, limit: this.limits.maxStartups, setting: 'sftp.maxStartups' });
      return undefined;
    }

    const startup = new Startup(address, socket, this);
    this.total++;
    this.perAddress.set(address, fromAddress + 1);
    const timer = setTimeout(() => this.expire(startup), this.limits.loginGraceSeconds * 1000);
    timer.unref();
    this.live.set(socket, { startup, timer });
    socket.once('close', () => this.release(startup));
    return startup;
  }

  /** The startup of a socket that has not logged in yet. */
  of(socket: Socket | undefined): Startup | undefined {
    return socket ? this.live.get(socket)?.startup : undefined;
  }

  release(startup: Startup): void {
    if (startup.released) return;
    startup.released = true;
    const entry = this.live.get(startup.socket);
    if (entry) clearTimeout(entry.timer);
    this.live.delete(startup.socket);
    this.total--;
    const n = (this.perAddress.get(startup.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(startup.address);
    else this.perAddress.set(startup.address, n);
  }

  /** At shutdown: connections that never logged in are simply dropped. */
  destroyAll(): void {
    for (const { startup } of [...this.live.values()]) startup.socket.destroy();
  }

  private expire(startup: Startup): void {
    if (startup.released) return;
    const { socket } = startup;
    if (startup.graceHandler) {
      startup.graceHandler();
    } else {
      // The client never even completed its SSH identification.
      this.log.info({ address: startup.address, graceSeconds: this.limits.loginGraceSeconds }, 'no login in time, disconnecting');
      recordFailure(this.guard, this.limits.banSeconds, this.log.child({ address: startup.address }), this.events, startup.address, startup.username ?? '');
      socket.destroy();
    }
    this.release(startup);
    // A peer that does not read the disconnect must not keep the socket either.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private refuse(socket: Socket, address: string, reason: string, msg: string, fields: Record<string, unknown>): void {
    socket.destroy();
    this.refusals.warn(address, reason, msg, fields);
  }
}
