import { utils } from 'ssh2';

export interface SshKeyPair {
  /** OpenSSH private key file content. */
  private: string;
  /** `type base64 comment` line. */
  public: string;
}

export type SshKeySpec = { type: 'ed25519'; comment: string } | { type: 'rsa'; bits: number; comment: string };

/**
 * ssh2's generator strips leading zero bytes from an ed25519 public key (mscdex/ssh2#1390,
 * #1513): about one pair in 256 is written with a 31-byte key that nothing can read back, and
 * a server whose host key is such a pair never starts again. A pair is only returned once both
 * halves parse; an unreadable one is thrown away and another made.
 */
const MAX_TRIES = 16;

function readable(keys: SshKeyPair): boolean {
  return !(utils.parseKey(keys.private) instanceof Error) && !(utils.parseKey(keys.public) instanceof Error);
}

function unreadable(spec: SshKeySpec): Error {
  return new Error(`ssh2 made ${MAX_TRIES} unreadable ${spec.type} key pairs in a row`);
}

export function generateSshKeyPairSync(spec: SshKeySpec): SshKeyPair {
  for (let i = 0; i < MAX_TRIES; i++) {
    const keys = spec.type === 'rsa'
      ? utils.generateKeyPairSync('rsa', { bits: spec.bits, comment: spec.comment })
      : utils.generateKeyPairSync('ed25519', { comment: spec.comment });
    if (readable(keys)) return keys;
  }
  throw unreadable(spec);
}

/** As generateSshKeyPairSync, off the event loop (an RSA 4096 pair takes seconds). */
export async function generateSshKeyPair(spec: SshKeySpec): Promise<SshKeyPair> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const keys = await new Promise<SshKeyPair>((resolve, reject) => {
      const done = (err: Error | null, made: SshKeyPair): void => (err ? reject(err) : resolve(made));
      if (spec.type === 'rsa') utils.generateKeyPair('rsa', { bits: spec.bits, comment: spec.comment }, done);
      else utils.generateKeyPair('ed25519', { comment: spec.comment }, done);
    });
    if (readable(keys)) return keys;
  }
  throw unreadable(spec);
}
