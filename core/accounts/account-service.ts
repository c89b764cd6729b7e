import { join } from 'node:path';
import type { FluxgateConfig } from '../config/schema';
import type { DataPaths } from '../config/paths';
import { FluxgateError } from '../errors';
import type { AccountDataRepository } from '../store/ports/account-data';
import type { Account, AccountKey, AccountOptions, AccountProfile, AccountRepository, NewAccountEntry } from '../store/ports/accounts';
import { normalizeAllowlist } from './allowlist';
import { createAccountTree, createAccountTrees } from './account-tree';
import { describeLeftovers, findLeftovers, removeAccount, unfinishedRemoval, type AccountRemoval, type RemovalDeps } from './account-removal';
import { assertKeyAcceptable, keyExpiry, parsePublicKey, type PublicKeyInfo } from './key-policy';
import { hashPassword } from './password';
import { publishStoredPublicKey } from '../pgp/publish';

export const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const PARTNER_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/i;

export function assertAccountId(id: string): void {
  if (!ACCOUNT_ID_PATTERN.test(id)) {
    throw new FluxgateError('FG_ACCOUNT_ID', `"${id}" is not a valid account id: use 1-32 characters, lower-case letters, digits, "-" and "_", starting with a letter or digit`);
  }
}

export interface CreateAccountInput {
  id: string;
  profile?: AccountProfile;
  partner?: string | null;
  allowIps?: string[];
  /** Public key text (OpenSSH or RFC 4716); optional so tooling can add keys later. */
  publicKey?: string;
  now?: number;
}

/** What checkSettings accepts: an account as `account add` or a row of `account import` describes it. */
export interface AccountSettingsInput {
  id: string;
  profile?: AccountProfile;
  partner?: string | null;
  allowIps?: string[];
  /** Public key texts (OpenSSH or RFC 4716). */
  publicKeys?: string[];
}

export type CheckedKey = Pick<PublicKeyInfo, 'type' | 'bits' | 'fingerprint' | 'publicKey' | 'comment'>;

/** An account that passed checkSettings: normalized, ready to insert. */
export interface CheckedAccount {
  id: string;
  profile: AccountProfile;
  partner: string | null;
  allowIps: string[];
  keys: CheckedKey[];
}

/**
 * Account administration used by the CLI and at first start (the demo account). Data access
 * goes through SqliteAccountRows; the server reads accounts and keys from the database at
 * every login, so changes apply without a restart.
 */
export class AccountService {
  constructor(
    private readonly repo: AccountRepository,
    /** What accounts own beyond their rows (leftovers, removal): synchronous still (docs/store.md). */
    private readonly data: AccountDataRepository,
    private readonly paths: DataPaths,
    private readonly config: FluxgateConfig,
  ) {}

  /** Where removed accounts' files and rows are kept. */
  get removedDir(): string { return join(this.paths.root, 'removed'); }

  list(): Promise<Account[]> { return this.repo.list(); }

  async get(id: string): Promise<Account> {
    const account = await this.repo.get(id);
    if (!account) throw new FluxgateError('FG_ACCOUNT_NOT_FOUND', `no account "${id}"`, { accountId: id });
    return account;
  }

  async create(input: CreateAccountInput): Promise<{ account: Account; key?: AccountKey }> {
    const checked = this.checkSettings({ ...input, publicKeys: input.publicKey === undefined ? [] : [input.publicKey] });
    await this.assertIdAvailable(checked.id);
    const now = input.now ?? Date.now();
    const [result] = await this.repo.insertAccounts([this.newAccountEntry(checked, now)], now);
    if (!result) throw new FluxgateError('FG_ACCOUNT_EXISTS', `account "${checked.id}" was created by another process meanwhile`, { accountId: checked.id });
    this.createAccountFiles(result.account);
    return { account: result.account, key: result.keys[0] };
  }

  /**
   * Everything `account add` checks about the account itself, without reading the store: id,
   * profile, partner id, allowlist (normalized), and each key (readable, public, acceptable under
   * the key policy, not listed twice). Throws the first problem as a FluxgateError; writes nothing.
   */
  checkSettings(input: AccountSettingsInput): CheckedAccount {
    assertAccountId(input.id);
    const profile = input.profile ?? 'exchange';
    if (profile !== 'exchange' && profile !== 'dropbox') {
      throw new FluxgateError('FG_ACCOUNT_PROFILE', `unknown profile "${String(profile)}": use exchange or dropbox`);
    }
    const partner = input.partner ?? null;
    if (partner !== null && !PARTNER_PATTERN.test(partner)) {
      throw new FluxgateError('FG_PARTNER_ID', `"${partner}" is not a valid partner id: use 1-32 letters, digits and "-", starting with a letter or digit`);
    }
    const allowIps = normalizeAllowlist(input.allowIps ?? [], this.config.sftp.maxAllowIps);
    const keys: CheckedKey[] = [];
    for (const text of input.publicKeys ?? []) {
      const key = this.checkedKey(text);
      if (keys.some((k) => k.fingerprint === key.fingerprint)) {
        throw new FluxgateError('FG_KEY_EXISTS', `key ${key.fingerprint} is given twice for "${input.id}"`, { accountId: input.id, fingerprint: key.fingerprint });
      }
      keys.push(key);
    }
    return { id: input.id, profile, partner, allowIps, keys };
  }

  /** Refuses an id that is taken (FG_ACCOUNT_EXISTS) or whose removed account left data (FG_ACCOUNT_LEFTOVERS). */
  async assertIdAvailable(id: string): Promise<void> {
    const existing = await this.repo.get(id);
    if (existing) {
      const unfinished = unfinishedRemoval(this.removal, id, existing) ? `; its removal is unfinished: run "fluxgate account remove ${id}" again` : '';
      throw new FluxgateError('FG_ACCOUNT_EXISTS', `account "${id}" already exists${unfinished}`, { accountId: id });
    }
    // A new account must start empty: it would otherwise find (and a sal upload "update") the data of the one removed.
    const leftovers = await findLeftovers(this.removal, id);
    if (leftovers) {
      throw new FluxgateError('FG_ACCOUNT_LEFTOVERS',
        `there is no account "${id}", but data of one removed earlier remains (${describeLeftovers(leftovers)}): ` +
        `run "fluxgate account remove ${id}", which moves it to ${this.removedDir}/, then add the account again`, { accountId: id });
    }
  }

  /** The rows of a checked account and its keys (each key's expiry from the config), for SqliteAccountRows.insertAccounts. */
  newAccountEntry(checked: CheckedAccount, now: number, disabledReason?: string): NewAccountEntry {
    return {
      account: { id: checked.id, profile: checked.profile, partner: checked.partner, allowIps: checked.allowIps, options: {}, createdAt: now },
      keys: checked.keys.map((key) => ({ accountId: checked.id, ...key, addedAt: now, expiresAt: keyExpiry(now, key.type, key.bits, this.config.keys) })),
      disabledReason,
    };
  }

  /**
   * What a new account needs on disk: its tree, and the server's PGP public key in out/sig/ (when
   * the server has run once; it also publishes at start). The one place accounts get their files.
   */
  createAccountFiles(account: Pick<Account, 'id' | 'profile'>): void {
    createAccountTree(this.paths.accountRoot(account.id), account.profile);
    publishStoredPublicKey(this.paths, account, this.config.sftp.fileMode);
  }

  /** createAccountFiles for many new accounts (`account import`): the trees are made several at a time. */
  async createAccountsFiles(accounts: ReadonlyArray<Pick<Account, 'id' | 'profile'>>): Promise<void> {
    await createAccountTrees(accounts.map((a) => ({ root: this.paths.accountRoot(a.id), profile: a.profile })));
    for (const account of accounts) publishStoredPublicKey(this.paths, account, this.config.sftp.fileMode);
  }

  async addKey(accountId: string, publicKeyText: string, now = Date.now()): Promise<AccountKey> {
    await this.notPurged(accountId, 'get a key');
    const key = this.checkedKey(publicKeyText);
    if (await this.repo.findKey(accountId, key.fingerprint)) {
      throw new FluxgateError('FG_KEY_EXISTS', `key ${key.fingerprint} is already registered for "${accountId}"`, { accountId, fingerprint: key.fingerprint });
    }
    return this.repo.addKey({ accountId, ...key, addedAt: now, expiresAt: keyExpiry(now, key.type, key.bits, this.config.keys) });
  }

  async keys(accountId: string): Promise<AccountKey[]> {
    await this.get(accountId);
    return this.repo.keys(accountId);
  }

  async removeKey(accountId: string, fingerprint: string): Promise<void> {
    await this.get(accountId);
    if (!await this.repo.removeKey(accountId, fingerprint)) {
      throw new FluxgateError('FG_KEY_NOT_FOUND', `account "${accountId}" has no key ${fingerprint} (see: fluxgate key list ${accountId})`, { accountId, fingerprint });
    }
  }

  /** Changes the partner id and/or replaces the allowlist (an empty list allows any address). */
  async update(accountId: string, patch: { partner?: string | null; allowIps?: string[]; options?: Partial<AccountOptions> }): Promise<Account> {
    const current = await this.get(accountId);
    if (patch.partner != null && !PARTNER_PATTERN.test(patch.partner)) {
      throw new FluxgateError('FG_PARTNER_ID', `"${patch.partner}" is not a valid partner id: use 1-32 letters, digits and "-", starting with a letter or digit`);
    }
    const allowIps = patch.allowIps === undefined ? undefined : normalizeAllowlist(patch.allowIps, this.config.sftp.maxAllowIps);
    await this.repo.update(accountId, {
      ...(patch.partner !== undefined ? { partner: patch.partner } : {}),
      ...(allowIps !== undefined ? { allowIps } : {}),
      ...(patch.options !== undefined ? { options: { ...current.options, ...patch.options } } : {}),
    });
    return this.get(accountId);
  }

  async disable(accountId: string, reason = 'disabled by an operator'): Promise<Account> {
    await this.get(accountId);
    await this.repo.setEnabled(accountId, false, reason);
    return this.get(accountId);
  }

  async enable(accountId: string): Promise<Account> {
    const account = await this.notPurged(accountId, 'be enabled');
    const unfinished = unfinishedRemoval(this.removal, accountId, account);
    if (unfinished) {
      throw new FluxgateError('FG_ACCOUNT_DISABLED', `account "${accountId}" is being removed and its files were moved to ${unfinished.folder}: `
        + `finish the removal with "fluxgate account remove ${accountId}" (then add it again to use the id)`, { accountId });
    }
    await this.repo.setEnabled(accountId, true);
    return this.get(accountId);
  }

  /**
   * A purged account keeps its row (its id, its purge date) but has no files nor keys: enabling
   * it or giving it a key would make it look usable again. The way back is remove, then add.
   */
  private async notPurged(accountId: string, what: string): Promise<Account> {
    const account = await this.get(accountId);
    if (account.purgedAt !== null) {
      throw new FluxgateError('FG_ACCOUNT_PURGED',
        `account "${accountId}" was purged on ${new Date(account.purgedAt).toISOString().slice(0, 10)} (its files are deleted) and cannot ${what}: ` +
        `remove it (fluxgate account remove ${accountId}), then add it again`, { accountId });
    }
    return account;
  }

  /**
   * Disables the account, moves all its files and an export of its rows to one folder of
   * `<data>/removed/`, then deletes its rows (account-removal.ts). Also finishes an interrupted
   * removal, and removes what an older fluxgate left of an account it removed.
   */
  remove(accountId: string, now = new Date()): Promise<AccountRemoval> {
    // The id becomes part of paths: "../sftp" would move every account's tree.
    assertAccountId(accountId);
    return removeAccount(this.removal, accountId, now);
  }

  private get removal(): RemovalDeps {
    return { accounts: this.repo, data: this.data, paths: this.paths, removedDir: this.removedDir };
  }

  /** DEPRECATED fallback: sets (or with null clears) the account's password, stored as an scrypt hash. */
  async setPassword(accountId: string, password: string | null): Promise<void> {
    await this.get(accountId);
    if (password !== null && password.length < 12) {
      throw new FluxgateError('FG_PASSWORD_WEAK', 'passwords must be at least 12 characters (and keys are preferred)');
    }
    await this.repo.update(accountId, { passwordHash: password === null ? null : await hashPassword(password) });
  }

  private checkedKey(text: string): CheckedKey {
    const key = parsePublicKey(text);
    assertKeyAcceptable(key, this.config.sftp);
    return { type: key.type, bits: key.bits, fingerprint: key.fingerprint, publicKey: key.publicKey, comment: key.comment };
  }
}
