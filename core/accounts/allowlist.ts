import { BlockList, isIP } from 'node:net';
import { FluxgateError } from '../errors';

/**
 * Per-account IP allowlists: IPv4 and IPv6 CIDR entries (a bare address means one host).
 * An empty list allows every address.
 */

/** Validates and normalizes entries (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7` → `192.0.2.7/32`). */
export function normalizeAllowlist(entries: readonly string[], max = 254): string[] {
  if (entries.length > max) {
    throw new FluxgateError('FG_ALLOWLIST', `at most ${max} allowlist entries are accepted (${entries.length} given)`);
  }
  const out: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) {
      throw new FluxgateError('FG_ALLOWLIST', `"${raw}" is not an IPv4 or IPv6 address or CIDR (e.g. 203.0.113.0/24)`);
    }
    const maxPrefix = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText ?? String(maxPrefix)) || prefix > maxPrefix) {
      throw new FluxgateError('FG_ALLOWLIST', `"${raw}": the prefix length must be 0-${maxPrefix}`);
    }
    const normalized = `${address.toLowerCase()}/${prefix}`;
    if (!out.includes(normalized)) out.push(normalized);
  }
  return out;
}

/** IPv4-mapped IPv6 addresses (`::ffff:192.0.2.7`, as dual-stack sockets report them) become IPv4. */
export function canonicalAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

/** True when the address is allowed by the list (an empty list allows all). */
export function isAddressAllowed(address: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const ip = canonicalAddress(address);
  const family = isIP(ip);
  if (family === 0) return false;
  const list = new BlockList();
  for (const entry of allowlist) {
    const [net, prefix] = entry.split('/');
    const entryFamily = isIP(net);
    if (entryFamily === 0) continue;
    list.addSubnet(net, Number(prefix), entryFamily === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}
