import { isKeyExpired } from './key-policy';
import type { Account, AccountKey } from '../store/accounts-repository';

/** Shared output shapes of the account, key and hostkeys commands. */

export const isoDate = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());
const day = (ms: number | null | undefined): string => (ms == null ? '-' : new Date(ms).toISOString().slice(0, 10));

export function keyJson(k: AccountKey, now = Date.now()): Record<string, unknown> {
  return {
    type: k.type, bits: k.bits, fingerprint: k.fingerprint, comment: k.comment,
    added: isoDate(k.addedAt), expires: isoDate(k.expiresAt), expired: isKeyExpired(k, now),
  };
}

export function accountJson(a: Account, keys?: AccountKey[]): Record<string, unknown> {
  return {
    id: a.id, profile: a.profile, partner: a.partner, enabled: a.enabled, disabledReason: a.disabledReason,
    disabledAt: isoDate(a.disabledAt), allowIps: a.allowIps, passwordFallback: a.passwordHash !== null, options: a.options,
    createdAt: isoDate(a.createdAt), lastLoginAt: isoDate(a.lastLoginAt),
    ...(keys ? { keys: keys.map((k) => keyJson(k)) } : {}),
  };
}

/** Left-aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function keyRows(keys: AccountKey[], now = Date.now()): string[] {
  return table(['TYPE', 'BITS', 'FINGERPRINT', 'ADDED', 'EXPIRES', 'STATUS', 'COMMENT'], keys.map((k) => [
    k.type, String(k.bits), k.fingerprint, day(k.addedAt), day(k.expiresAt), isKeyExpired(k, now) ? 'expired' : 'valid', k.comment,
  ]));
}

export function accountRows(accounts: Account[], keyCount: (id: string) => number): string[] {
  return table(['ID', 'PROFILE', 'PARTNER', 'STATUS', 'KEYS', 'ALLOW-IP', 'LAST LOGIN'], accounts.map((a) => [
    a.id, a.profile, a.partner ?? '-', a.enabled ? 'enabled' : 'disabled', String(keyCount(a.id)),
    a.allowIps.length ? String(a.allowIps.length) : 'any', a.lastLoginAt ? new Date(a.lastLoginAt).toISOString() : 'never',
  ]));
}
