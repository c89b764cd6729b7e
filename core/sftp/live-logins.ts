import { isAddressAllowed } from '../accounts/allowlist';
import { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { AccountRepository } from '../store/ports/accounts';
import { PathJail, type JailedPath } from './path-jail';

/** What a login was accepted on; re-checked against the database for as long as its connection lives. */
export interface LoginGrant {
  accountId: string;
  /** Tells this account from a later one created with the same id after it was removed. */
  accountCreatedAt: number;
  address: string;
  method: 'publickey' | 'password';
  /** publickey: the key the client signed with. */
  fingerprint?: string;
  keyId?: number;
  /** password: the hash the password was checked against. */
  passwordHash?: string | null;
}

/**
 * Why an open login no longer holds, or undefined while it does: the account was removed
 * (or replaced by a new one with the same id), purged or disabled; the address left its
 * allowlist; the key it logged in with was removed; the password it used was changed or
 * cleared. A key's expiry is not a revocation: it refuses the next login only.
 */
export async function revocation(accounts: AccountRepository, grant: LoginGrant): Promise<string | undefined> {
  const account = await accounts.get(grant.accountId);
  if (!account) return 'account removed';
  if (account.createdAt !== grant.accountCreatedAt) return 'account removed (a new account now has this id)';
  if (account.purgedAt !== null) return 'account purged';
  if (!account.enabled) return 'account disabled';
  if (!isAddressAllowed(grant.address, account.allowIps)) return 'address no longer in the account allowlist';
  if (grant.method === 'publickey') {
    const key = grant.fingerprint === undefined ? undefined : await accounts.findKey(account.id, grant.fingerprint);
    if (!key || key.id !== grant.keyId) return 'the key used to log in was removed';
  } else if (account.passwordHash !== grant.passwordHash) {
    return 'the password used to log in was changed or cleared';
  }
  return undefined;
}

export interface LiveLogin {
  readonly grant: LoginGrant;
  /** Ends the connection (once), logging why. */
  end(reason: string): void;
}

/**
 * The logged-in connections of the server. Each is re-checked every `sftp.sessionRecheckSeconds`
 * and before every SFTP request (see `check`), so a session of a removed, disabled or re-keyed
 * account ends, no request of it succeeds once the CLI command that revoked it has returned, and
 * it can never reach a later account created with the same id (its tree is at the same place on
 * disk).
 */
export class LiveLogins {
  private readonly logins = new Set<LiveLogin>();
  /** The store's change stamp at which each login was last found to hold. */
  private readonly verified = new WeakMap<LiveLogin, string>();
  /** Logins found revoked: refused at once, before any read (RecheckedJail). */
  private readonly revoked = new WeakMap<LiveLogin, string>();
  /** The stamp read shared by the checks asked for in the current tick (see `stamp`). */
  private pendingStamp?: Promise<string>;
  private timer?: NodeJS.Timeout;

  constructor(private readonly accounts: AccountRepository, private readonly log: Logger) {}

  get size(): number { return this.logins.size; }

  add(login: LiveLogin): () => void {
    this.logins.add(login);
    return () => { this.logins.delete(login); };
  }

  /**
   * Rejects with FG_PERMISSION_DENIED, and ends the login, when it no longer holds. Reads the
   * account and key again only when something was committed to the store since the login was
   * last found to hold (the stamp is read first, so a commit during the check is seen next time).
   */
  async check(login: LiveLogin): Promise<void> {
    this.assertNotRevoked(login);
    const stamp = await this.stamp();
    if (this.verified.get(login) === stamp) return;
    const reason = await revocation(this.accounts, login.grant);
    if (reason === undefined) {
      this.verified.set(login, stamp);
      return;
    }
    this.verified.delete(login);
    this.revoked.set(login, reason);
    // Ended just after: the refusal of the request being checked reaches the client first.
    setImmediate(() => login.end(reason));
    this.assertNotRevoked(login);
  }

  /** Throws FG_PERMISSION_DENIED when a check already found the login revoked (no store read). */
  assertNotRevoked(login: LiveLogin): void {
    const reason = this.revoked.get(login);
    if (reason !== undefined) {
      throw new FluxgateError('FG_PERMISSION_DENIED', `this session has ended: ${reason}`, { accountId: login.grant.accountId });
    }
  }

  /**
   * The store's change stamp, read once for all the checks asked for in the same event-loop turn:
   * the read starts after they all arrived (at the turn's end, `setImmediate`), so none is checked
   * against a stamp older than itself, and an upload's many WRITEs cost one read per turn rather
   * than one each. Per turn, not per socket read: Node reads a busy socket up to 32 times of
   * 64 KiB in one turn, each its own callback (bench:sftp: ~7 reads a turn, one 255 KiB WRITE
   * completed every ~4 reads; a read of SQLite's stamp costs two fcntl locks and a getpid).
   */
  private stamp(): Promise<string> {
    this.pendingStamp ??= new Promise<string>((resolve, reject) => {
      setImmediate(() => {
        this.pendingStamp = undefined;
        this.accounts.changeStamp().then(resolve, reject);
      });
    });
    return this.pendingStamp;
  }

  /** Ends every login that no longer holds. */
  async sweep(): Promise<void> {
    for (const login of [...this.logins]) {
      try {
        const reason = await revocation(this.accounts, login.grant);
        if (reason !== undefined) {
          this.revoked.set(login, reason);
          login.end(reason);
        }
      } catch (err) {
        this.log.error({ err, accountId: login.grant.accountId }, 'could not re-check a login');
      }
    }
  }

  start(intervalSeconds: number): void {
    this.stop();
    this.timer = setInterval(() => { if (this.logins.size > 0) void this.sweep(); }, intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * The account's jail, refusing every path once the login was found revoked (the request's own
 * check, awaited before its handler, reads the store: sftp-session.ts).
 */
export class RecheckedJail extends PathJail {
  constructor(root: string, private readonly recheck: () => void) {
    super(root);
  }

  override resolve(input: string): JailedPath {
    this.recheck();
    return super.resolve(input);
  }
}
