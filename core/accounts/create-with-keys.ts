import type { FluxgateConfig } from '../config/schema';
import { FluxgateError } from '../errors';
import type { Account, AccountKey, AccountProfile } from '../store/ports/accounts';
import type { AccountService } from './account-service';
import { assertKeyAcceptable, parsePublicKey } from './key-policy';

export interface NewAccountWithKeys {
  id: string;
  profile?: AccountProfile;
  partner?: string | null;
  keys: string[];
  allowIps?: string[];
}

/**
 * Creates an account with any number of keys (POST /api/v1/accounts). Every key is checked
 * first, with the policy `account add` applies, and two copies of one key are refused: a bad
 * key creates nothing. Then the account is created with the first key and the others added.
 */
export async function createAccountWithKeys(svc: AccountService, config: FluxgateConfig, input: NewAccountWithKeys): Promise<{ account: Account; keys: AccountKey[] }> {
  const seen = new Map<string, number>();
  input.keys.forEach((text, i) => {
    let key;
    try {
      key = parsePublicKey(text);
      assertKeyAcceptable(key, config.sftp);
    } catch (err) {
      if (err instanceof FluxgateError) throw new FluxgateError(err.code, `keys[${i}]: ${err.message}`, { ...err.details, index: i });
      throw err;
    }
    const first = seen.get(key.fingerprint);
    if (first !== undefined) throw new FluxgateError('FG_KEY_EXISTS', `keys[${i}] is the same key as keys[${first}] (${key.fingerprint})`, { index: i, fingerprint: key.fingerprint });
    seen.set(key.fingerprint, i);
  });
  const [firstKey, ...rest] = input.keys;
  const { account } = await svc.create({ id: input.id, profile: input.profile, partner: input.partner ?? null, allowIps: input.allowIps, publicKey: firstKey });
  for (const text of rest) await svc.addKey(account.id, text);
  return { account, keys: await svc.keys(account.id) };
}
