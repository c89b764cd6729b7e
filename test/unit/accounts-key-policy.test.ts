import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { makeKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';
import { isFluxgateError } from '../../core/errors';
import {
  assertKeyAcceptable, isKeyExpired, keyExpiry, keyRefusal, parsePublicKey, type KeyType,
} from '../../core/accounts/key-policy';

const policy = { minRsaBits: 3072, allowEcdsa: false };
const validity = { rsaShortValidityDays: 730, longValidityDays: 1826 };
const DAY = 86_400_000;

function sshKeygenFingerprint(pubPath: string, hash: 'sha256' | 'md5'): string {
  return execFileSync('ssh-keygen', ['-l', '-E', hash, '-f', pubPath], { encoding: 'utf8' }).split(' ')[1];
}

test('OpenSSH public keys: type, bits, comment and fingerprints exactly as ssh-keygen -l prints them', { skip: skipUnless('ssh-keygen') }, () => {
  for (const [type, bits, expectedBits] of [['ed25519', undefined, 256], ['rsa', 3072, 3072], ['ecdsa', 384, 384]] as const) {
    const key = makeKey(type, bits);
    const info = parsePublicKey(readFileSync(key.publicPath, 'utf8'));
    assert.equal(info.type, type);
    assert.equal(info.bits, expectedBits);
    assert.equal(info.fingerprint, key.fingerprint);
    assert.equal(info.fingerprint, sshKeygenFingerprint(key.publicPath, 'sha256'));
    assert.equal(info.md5, sshKeygenFingerprint(key.publicPath, 'md5'));
    assert.equal(info.comment, `test-${type}${bits ?? ''}`);
  }
});

test('RFC 4716 public keys (ed25519 and RSA) are converted, same fingerprint as the OpenSSH form', { skip: skipUnless('ssh-keygen') }, () => {
  for (const [type, bits] of [['ed25519', undefined], ['rsa', 3072]] as const) {
    const key = makeKey(type, bits);
    const rfc = execFileSync('ssh-keygen', ['-e', '-f', key.publicPath], { encoding: 'utf8' });
    assert.match(rfc, /---- BEGIN SSH2 PUBLIC KEY ----/);
    const info = parsePublicKey(rfc.replace(/\n/g, '\r\n'));
    assert.equal(info.fingerprint, key.fingerprint);
    assert.equal(info.type, type);
    assert.match(info.comment, /converted by/);
    assert.ok(info.publicKey.startsWith(type === 'rsa' ? 'ssh-rsa AAAA' : 'ssh-ed25519 AAAA'));
    // The normalized line parses to the same key.
    assert.equal(parsePublicKey(info.publicKey).fingerprint, key.fingerprint);
  }
});

test('private keys are refused with FG_KEY_PRIVATE; garbage with FG_KEY_INVALID', { skip: skipUnless('ssh-keygen') }, () => {
  const key = makeKey('ed25519');
  assert.throws(() => parsePublicKey(readFileSync(key.privatePath)), (e) => isFluxgateError(e, 'FG_KEY_PRIVATE') && /public key/.test(e.message));
  assert.throws(() => parsePublicKey('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----'), (e) => isFluxgateError(e, 'FG_KEY_PRIVATE'));
  assert.throws(() => parsePublicKey('ssh-ed25519 not-base64!'), (e) => isFluxgateError(e, 'FG_KEY_INVALID'));
  assert.throws(() => parsePublicKey(''), (e) => isFluxgateError(e, 'FG_KEY_INVALID'));
});

test('acceptability: ed25519 yes; RSA from minRsaBits; ECDSA only when enabled; DSA never', () => {
  assert.equal(keyRefusal({ type: 'ed25519', bits: 256 }, policy), undefined);
  assert.equal(keyRefusal({ type: 'rsa', bits: 3072 }, policy), undefined);
  assert.match(keyRefusal({ type: 'rsa', bits: 2048 }, policy)!, /at least 3072/);
  assert.match(keyRefusal({ type: 'ecdsa', bits: 256 }, policy)!, /ECDSA/);
  assert.equal(keyRefusal({ type: 'ecdsa', bits: 256 }, { ...policy, allowEcdsa: true }), undefined);
  assert.match(keyRefusal({ type: 'dsa', bits: 1024 }, { ...policy, allowEcdsa: true })!, /DSA/);
  assert.throws(() => assertKeyAcceptable({ type: 'rsa', bits: 2048 }, policy), (e) => isFluxgateError(e, 'FG_KEY_WEAK'));
});

test('validity: RSA 3072-4095 bits rsaShortValidityDays (730 days), RSA 4096+ and ed25519 longValidityDays (1826 days); expired by date or by the job', () => {
  const added = Date.UTC(2026, 0, 1);
  assert.equal(keyExpiry(added, 'rsa', 3072, validity), added + 730 * DAY);
  assert.equal(keyExpiry(added, 'rsa', 4095, validity), added + 730 * DAY);
  assert.equal(keyExpiry(added, 'rsa', 4096, validity), added + 1826 * DAY);
  assert.equal(keyExpiry(added, 'ed25519', 256, validity), added + 1826 * DAY);
  const expiresAt = added + 730 * DAY;
  assert.equal(isKeyExpired({ expiresAt, expiredAt: null }, expiresAt - 1), false);
  assert.equal(isKeyExpired({ expiresAt, expiredAt: null }, expiresAt), true);
  assert.equal(isKeyExpired({ expiresAt, expiredAt: added }, added), true);
});

test('validity is counted in days, as configured, not in calendar years: across a leap day 730 days end before the anniversary', () => {
  const at = (iso: string) => Date.parse(iso);
  const expiry = (added: string, type: KeyType, bits: number, keys = validity) => new Date(keyExpiry(at(added), type, bits, keys)).toISOString();
  // 2028-02-29 lies within these 730 days: they end a day before 2028-03-01, the second anniversary.
  assert.equal(expiry('2026-03-01T09:30:00.000Z', 'rsa', 3072), '2028-02-29T09:30:00.000Z');
  // Without a leap day in the period, 730 days and two years meet.
  assert.equal(expiry('2025-01-15T00:00:00.000Z', 'rsa', 3072), '2027-01-15T00:00:00.000Z');
  // 1826 days cover one leap day: five years from 2026-03-01, but a day short from 2027-03-01 (two leap days).
  assert.equal(expiry('2026-03-01T00:00:00.000Z', 'ed25519', 256), '2031-03-01T00:00:00.000Z');
  assert.equal(expiry('2027-03-01T00:00:00.000Z', 'rsa', 4096), '2032-02-29T00:00:00.000Z');
  // A key added on Feb 29 with 365 days configured: the same date the next year is Feb 28.
  assert.equal(expiry('2028-02-29T12:00:00.000Z', 'ed25519', 256, { rsaShortValidityDays: 1, longValidityDays: 365 }), '2029-02-28T12:00:00.000Z');
  assert.equal(expiry('2028-02-29T12:00:00.000Z', 'rsa', 3072, { rsaShortValidityDays: 1, longValidityDays: 365 }), '2028-03-01T12:00:00.000Z');
});
