import { createHash, createPublicKey } from 'node:crypto';
import { utils, type ParsedKey } from 'ssh2';
import { FluxgateError } from '../errors';
import type { FluxgateConfig } from '../config/schema';

/**
 * Public keys of SFTP users: parsing (OpenSSH one-line and RFC 4716 files), fingerprints as
 * `ssh-keygen -l` prints them, what is acceptable, and how long a key stays valid.
 * Used by the CLI (`key add`), the SFTP server (auth) and the key-expiry cron job.
 */

export type KeyType = 'ed25519' | 'rsa' | 'ecdsa' | 'dsa' | 'unknown';

export interface PublicKeyInfo {
  /** Short type name as `ssh-keygen -l` shows it in parentheses, lower-case: ed25519, rsa, ecdsa, dsa. */
  type: KeyType;
  /** SSH algorithm name from the key blob, e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`. */
  algorithm: string;
  bits: number;
  /** `SHA256:<base64 without padding>` exactly as `ssh-keygen -l -E sha256` prints it. */
  fingerprint: string;
  /** `MD5:aa:bb:…` exactly as `ssh-keygen -l -E md5` prints it. */
  md5: string;
  /** The normalized OpenSSH one-line form `<algorithm> <base64> [comment]`. */
  publicKey: string;
  comment: string;
  /** The SSH wire-format public key blob. */
  blob: Buffer;
}

const PRIVATE_MARKERS = [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, /^PuTTY-User-Key-File-/m, /---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----/];
const RFC4716 = /---- BEGIN SSH2 PUBLIC KEY ----\r?\n([\s\S]*?)\r?\n?---- END SSH2 PUBLIC KEY ----/;

/** `SHA256:…` of an SSH public key blob. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** `MD5:aa:bb:…` of an SSH public key blob. */
export function md5Fingerprint(blob: Buffer): string {
  const hex = createHash('md5').update(blob).digest('hex');
  return `MD5:${hex.match(/../g)!.join(':')}`;
}

/**
 * Reads one public key in OpenSSH (`ssh-ed25519 AAAA… comment`) or RFC 4716
 * (`---- BEGIN SSH2 PUBLIC KEY ----`) form. Private keys are refused with FG_KEY_PRIVATE.
 */
export function parsePublicKey(text: string | Buffer): PublicKeyInfo {
  const str = (Buffer.isBuffer(text) ? text.toString('utf8') : text).replace(/^\uFEFF/, '').trim();
  if (PRIVATE_MARKERS.some((re) => re.test(str))) {
    throw new FluxgateError('FG_KEY_PRIVATE', 'this is a private key: give the public key (the .pub file) instead, and keep the private key secret');
  }
  const line = RFC4716.test(str) ? rfc4716ToOpenSsh(str) : firstKeyLine(str);
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error) {
    throw new FluxgateError('FG_KEY_INVALID', `the public key cannot be read: ${parsed.message}`);
  }
  return describeParsedKey(parsed);
}

/** Describes a key ssh2 already parsed (e.g. the one a client offers at authentication). */
export function describeParsedKey(parsed: ParsedKey): PublicKeyInfo {
  const blob = parsed.getPublicSSH();
  const algorithm = parsed.type;
  const type = keyTypeOf(algorithm);
  const comment = parsed.comment ?? '';
  const base = `${algorithm} ${blob.toString('base64')}`;
  return {
    type,
    algorithm,
    bits: keyBits(parsed, type, algorithm),
    fingerprint: sha256Fingerprint(blob),
    md5: md5Fingerprint(blob),
    publicKey: comment ? `${base} ${comment}` : base,
    comment,
    blob,
  };
}

function firstKeyLine(str: string): string {
  // authorized_keys-style files may hold comments and blank lines; take the first key line.
  const lines = str.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (lines.length === 0) throw new FluxgateError('FG_KEY_INVALID', 'the key file is empty');
  if (lines.length > 1) throw new FluxgateError('FG_KEY_INVALID', 'the file holds more than one line: give exactly one public key');
  return lines[0];
}

/** RFC 4716 → OpenSSH line (ssh2 itself only reads RSA and DSA keys in RFC 4716 form). */
function rfc4716ToOpenSsh(str: string): string {
  const body = RFC4716.exec(str)![1];
  const lines = body.split(/\r?\n/);
  let comment = '';
  const data: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i];
    const header = /^([\x21-\x39\x3B-\x7E]{1,64}):\s?(.*)$/.exec(l);
    if (header) {
      // Header values may continue on the next line after a trailing backslash.
      let value = header[2];
      while (value.endsWith('\\') && i + 1 < lines.length) value = value.slice(0, -1) + lines[++i];
      if (header[1].toLowerCase() === 'comment') comment = value.replace(/^"(.*)"$/, '$1');
      continue;
    }
    l = l.trim();
    if (l) data.push(l);
  }
  const b64 = data.join('');
  if (!/^[A-Za-z0-9+/=]+$/.test(b64)) throw new FluxgateError('FG_KEY_INVALID', 'the RFC 4716 key body is not base64');
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 4) throw new FluxgateError('FG_KEY_INVALID', 'the RFC 4716 key body is too short');
  const typeLen = blob.readUInt32BE(0);
  const algorithm = blob.subarray(4, 4 + typeLen).toString('latin1');
  if (!/^[a-z0-9@.-]+$/.test(algorithm)) throw new FluxgateError('FG_KEY_INVALID', 'the RFC 4716 key has no readable key type');
  return `${algorithm} ${b64}${comment ? ` ${comment}` : ''}`;
}

export function keyTypeOf(algorithm: string): KeyType {
  if (algorithm === 'ssh-ed25519') return 'ed25519';
  if (algorithm === 'ssh-rsa' || algorithm.startsWith('rsa-sha2-')) return 'rsa';
  if (algorithm.startsWith('ecdsa-sha2-')) return 'ecdsa';
  if (algorithm === 'ssh-dss') return 'dsa';
  return 'unknown';
}

function keyBits(parsed: ParsedKey, type: KeyType, algorithm: string): number {
  switch (type) {
    case 'ed25519':
      return 256;
    case 'ecdsa':
      return Number(/nistp(\d+)$/.exec(algorithm)?.[1] ?? 0);
    case 'rsa':
    case 'dsa': {
      const details = createPublicKey(parsed.getPublicPEM()).asymmetricKeyDetails;
      return details?.modulusLength ?? 0;
    }
    default:
      return 0;
  }
}

export type KeyPolicyConfig = Pick<FluxgateConfig['sftp'], 'minRsaBits' | 'allowEcdsa'>;

/** Why a key is not acceptable, or undefined when it is. */
export function keyRefusal(key: Pick<PublicKeyInfo, 'type' | 'bits'>, policy: KeyPolicyConfig): string | undefined {
  switch (key.type) {
    case 'ed25519':
      return undefined;
    case 'rsa':
      return key.bits >= policy.minRsaBits ? undefined : `RSA keys need at least ${policy.minRsaBits} bits (this one has ${key.bits})`;
    case 'ecdsa':
      return policy.allowEcdsa ? undefined : 'ECDSA keys are not accepted (sftp.allowEcdsa is off): use ed25519';
    case 'dsa':
      return 'DSA keys are never accepted: use ed25519';
    default:
      return 'this key type is not accepted: use ed25519 or RSA';
  }
}

/** Throws FG_KEY_WEAK when the key is not acceptable under the policy. */
export function assertKeyAcceptable(key: Pick<PublicKeyInfo, 'type' | 'bits'>, policy: KeyPolicyConfig): void {
  const reason = keyRefusal(key, policy);
  if (reason) throw new FluxgateError('FG_KEY_WEAK', reason, { type: key.type, bits: key.bits });
}

export type KeyValidityConfig = Pick<FluxgateConfig['keys'], 'rsaShortValidityDays' | 'longValidityDays'>;
const DAY_MS = 86_400_000;

/**
 * Validity in days: RSA under 4096 bits gets the short period, RSA 4096+, ed25519 (and others) the long one.
 * The policy is configured in days (keys.*ValidityDays), so it is counted in days, not calendar
 * years: the default 730 days from 2026-03-01 end on 2028-02-29, a day before the second anniversary.
 */
export function keyValidityDays(type: KeyType, bits: number, keys: KeyValidityConfig): number {
  return type === 'rsa' && bits < 4096 ? keys.rsaShortValidityDays : keys.longValidityDays;
}

/** When a key added at `addedAt` (epoch ms) expires (epoch ms). */
export function keyExpiry(addedAt: number, type: KeyType, bits: number, keys: KeyValidityConfig): number {
  return addedAt + keyValidityDays(type, bits, keys) * DAY_MS;
}

/** A stored key is expired when its expiry date has passed or the key-expiry job marked it. */
export function isKeyExpired(key: { expiresAt: number; expiredAt: number | null }, now = Date.now()): boolean {
  return key.expiredAt !== null || key.expiresAt <= now;
}
