import { utils, type AuthContext } from 'ssh2';
import { isAddressAllowed } from '../accounts/allowlist';
import { describeParsedKey, isKeyExpired, keyRefusal, sha256Fingerprint } from '../accounts/key-policy';
import { hashPassword, verifyPassword } from '../accounts/password';
import type { FluxgateConfig } from '../config/schema';
import type { Account, AccountRepository } from '../store/ports/accounts';

export type AuthMethod = 'publickey' | 'password';

export type AuthDecision =
  | { accept: true; account: Account; method: AuthMethod; fingerprint?: string; keyId?: number; keyType?: string; bits?: number }
  /** `query`: a public key was found acceptable and the client may now sign with it. */
  | { accept: 'query'; fingerprint: string }
  | { accept: false; reason: string; methods: AuthMethod[]; countsAsFailure: boolean; fingerprint?: string; accountId?: string };

/**
 * Decides one authentication attempt. Accounts and keys are read from the database on every
 * attempt, so CLI changes apply at the next login. ssh2 does not verify signatures: this does.
 *
 * Nothing in the answers depends on the user name: the methods offered are the same for every
 * name (`publickey`, plus `password` while any account has the deprecated password fallback),
 * and a password attempt costs one scrypt derivation whether the account exists, has a
 * password or not.
 */
export class Authenticator {
  /** Verified against when there is no real hash, so that a refusal takes as long as a check. */
  private decoy?: Promise<string>;

  constructor(
    private readonly accounts: AccountRepository,
    private readonly config: FluxgateConfig,
  ) {}

  /** The methods offered to every user name. */
  async methods(): Promise<AuthMethod[]> {
    return await this.accounts.anyPassword() ? ['publickey', 'password'] : ['publickey'];
  }

  async decide(ctx: AuthContext, address: string): Promise<AuthDecision> {
    const account = await this.accounts.get(ctx.username);
    const methods = await this.methods();
    const refuse = (reason: string, countsAsFailure: boolean, fingerprint?: string): AuthDecision =>
      ({ accept: false, reason, methods, countsAsFailure, fingerprint, accountId: account?.id });

    // 'none' is how clients ask which methods exist, and a public key offered without a
    // signature is a question ("would this key do?"): neither is a failed attempt by itself.
    // (The connection counts once as a failure if it never logs in.)
    if (ctx.method === 'none') return refuse('method none', false);
    if (ctx.method === 'password') return this.password(ctx, account, address, refuse);
    if (ctx.method !== 'publickey') return refuse(`method ${ctx.method} is not offered`, false);

    const signed = ctx.signature !== undefined;
    const unusable = this.unusable(account, address);
    if (unusable) return refuse(unusable, signed);
    return await this.publicKey(ctx, account!, refuse);
  }

  /** Why the account cannot log in from this address at all, or undefined. */
  private unusable(account: Account | undefined, address: string): string | undefined {
    if (!account || account.purgedAt !== null) return 'unknown account';
    if (!account.enabled) return `account disabled${account.disabledReason ? ` (${account.disabledReason})` : ''}`;
    if (!isAddressAllowed(address, account.allowIps)) return 'address not in the account allowlist';
    return undefined;
  }

  private async password(
    ctx: Extract<AuthContext, { method: 'password' }>,
    account: Account | undefined,
    address: string,
    refuse: (reason: string, countsAsFailure: boolean) => AuthDecision,
  ): Promise<AuthDecision> {
    const hash = account?.passwordHash ?? null;
    // Always one scrypt derivation: the time taken must not tell which accounts have a password.
    this.decoy ??= hashPassword(`decoy ${Math.random()}`);
    const matches = await verifyPassword(ctx.password, hash ?? await this.decoy);
    const unusable = this.unusable(account, address);
    if (unusable) return refuse(unusable, true);
    if (!hash) return refuse('password authentication is off for this account', true);
    if (!matches) return refuse('wrong password', true);
    return { accept: true, account: account!, method: 'password' };
  }

  private async publicKey(
    ctx: Extract<AuthContext, { method: 'publickey' }>,
    account: Account,
    refuse: (reason: string, countsAsFailure: boolean, fingerprint?: string) => AuthDecision,
  ): Promise<AuthDecision> {
    const fingerprint = sha256Fingerprint(ctx.key.data);
    // A client offering keys one by one is not attacking: only signed attempts count as failures.
    const signed = ctx.signature !== undefined;
    const stored = await this.accounts.findKey(account.id, fingerprint);
    if (!stored) return refuse('key not registered for this account', signed, fingerprint);
    if (isKeyExpired(stored)) return refuse(`key expired on ${new Date(stored.expiresAt).toISOString().slice(0, 10)}`, signed, fingerprint);

    const parsed = utils.parseKey(ctx.key.data);
    if (parsed instanceof Error) return refuse(`key cannot be parsed: ${parsed.message}`, signed, fingerprint);
    const info = describeParsedKey(parsed);
    // The policy is applied again at login: the configuration may have tightened since `key add`.
    const weak = keyRefusal(info, this.config.sftp);
    if (weak) return refuse(weak, signed, fingerprint);
    if (!signed) return { accept: 'query', fingerprint };

    // An RSA key always arrives as `ssh-rsa`; no hash algorithm means a SHA-1 signature.
    if (info.type === 'rsa' && ctx.hashAlgo !== 'sha256' && ctx.hashAlgo !== 'sha512') {
      return refuse('RSA signatures with SHA-1 (ssh-rsa) are refused: use rsa-sha2-256 or rsa-sha2-512', true, fingerprint);
    }
    const ok = parsed.verify(ctx.blob!, ctx.signature!, ctx.hashAlgo);
    if (ok !== true) return refuse('signature verification failed', true, fingerprint);
    return { accept: true, account, method: 'publickey', fingerprint, keyId: stored.id, keyType: info.type, bits: info.bits };
  }
}
