import type { DirectoryCounts } from './account-data';
import type { NewEvent } from '../event-types';

export type AccountProfile = 'exchange' | 'dropbox';

export interface AccountOptions {
  /** Drop-box: an upload is a full sync, employees missing from it are deactivated. */
  deactivateMissing?: boolean;
  /** Only PGP-encrypted uploads are accepted. */
  requireEncryption?: boolean;
}

export interface Account {
  id: string;
  profile: AccountProfile;
  /** Partner id used in exchange file names; the account id itself for direct clients. */
  partner: string | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: number | null;
  allowIps: string[];
  passwordHash: string | null;
  options: AccountOptions;
  createdAt: number;
  lastLoginAt: number | null;
  purgedAt: number | null;
}

export interface AccountKey {
  id: number;
  accountId: string;
  type: string;
  bits: number;
  /** `SHA256:…` as OpenSSH prints it. */
  fingerprint: string;
  /** One OpenSSH public key line. */
  publicKey: string;
  comment: string;
  addedAt: number;
  expiresAt: number;
  expiredAt: number | null;
  warnedAt: number | null;
}

/** An account's id and profile: what walking its tree needs. */
export type AccountRef = Pick<Account, 'id' | 'profile'>;

export type NewAccount = Pick<Account, 'id' | 'profile' | 'partner' | 'allowIps' | 'options'> & { createdAt?: number };
export type NewAccountKey = Omit<AccountKey, 'id' | 'expiredAt' | 'warnedAt'>;
/** An account to insert with its keys; with `disabledReason`, it is inserted disabled. */
export interface NewAccountEntry { account: NewAccount; keys: NewAccountKey[]; disabledReason?: string }

/**
 * Accounts and their keys (with their allowlists and options, which are columns of the account).
 * Every read goes to the store, so changes made by the CLI in another process take effect at the
 * server's next login without a restart. Atomic changes are units of work (docs/store.md).
 */
export interface AccountRepository {
  get(id: string): Promise<Account | undefined>;
  list(): Promise<Account[]>;
  /**
   * Up to `limit` accounts not purged whose id sorts after `afterId`, in id order: one page of a
   * pass over every account that never holds the whole list.
   */
  pageAfter(afterId: string, limit: number): Promise<AccountRef[]>;
  /** How many accounts are not purged. */
  countLive(): Promise<number>;
  /** Disabling an enabled account records `account.disabled` with it, atomically. */
  setEnabled(id: string, enabled: boolean, reason?: string | null, at?: number): Promise<boolean>;
  update(id: string, patch: AccountPatch): Promise<boolean>;
  /** Whether any account has a (deprecated) password set. */
  anyPassword(): Promise<boolean>;
  recordLogin(id: string, at?: number): Promise<void>;
  keys(accountId: string): Promise<AccountKey[]>;
  allKeys(): Promise<AccountKey[]>;
  findKey(accountId: string, fingerprint: string): Promise<AccountKey | undefined>;
  addKey(k: NewAccountKey): Promise<AccountKey>;
  removeKey(accountId: string, fingerprint: string): Promise<boolean>;
  /**
   * A value that changes whenever anything is committed to the store: SFTP sessions re-check
   * their login when it changed (core/sftp/live-logins.ts).
   */
  changeStamp(): Promise<string>;
  /**
   * Unit of work: inserts the accounts with their keys, atomically; an id that exists by then
   * (another process created it) is skipped: its entry in the result is undefined.
   */
  insertAccounts(entries: NewAccountEntry[], at?: number): Promise<Array<{ account: Account; keys: AccountKey[] } | undefined>>;
  /** Unit of work: the key marked expired and its `key.expired` event. */
  expireKey(id: number, at: number, event: NewEvent): Promise<void>;
  /** Unit of work: the key marked warned and its `key.expiring` event. */
  warnKey(id: number, at: number, event: NewEvent): Promise<void>;
  /**
   * Unit of work, the last step of a purge: keys, password and directory rows deleted, the row
   * kept but disabled and marked purged, and its event (made from what was deleted).
   */
  purgeRows(id: string, at: number, reason: string, eventOf: (deleted: DirectoryCounts) => NewEvent): Promise<DirectoryCounts>;
  /** The account's directory rows by table, without changing anything (what a purge would delete). */
  directoryCounts(accountId: string): Promise<DirectoryCounts>;
}

export type AccountPatch = Partial<Pick<Account, 'partner' | 'allowIps' | 'passwordHash' | 'options' | 'lastLoginAt' | 'purgedAt'>>;
