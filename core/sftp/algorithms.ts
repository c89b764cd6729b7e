import type { Algorithms, Connection } from 'ssh2';
import type { FluxgateConfig } from '../config/schema';

/**
 * ssh2 accepts these names in its configuration but cannot complete them as a server:
 * group-exchange needs server-side DH group negotiation that ssh2 does not implement,
 * sntrup761 is not implemented at all. Offering them would break handshakes.
 */
const UNSERVABLE = [/^diffie-hellman-group-exchange-/, /^sntrup761/, /^mlkem/, /-cert-v01@openssh\.com$/];

/** The exact algorithm lists from the configuration, minus what ssh2 cannot serve. */
export function serverAlgorithms(configured: FluxgateConfig['sftp']['algorithms']): { algorithms: Algorithms; dropped: string[] } {
  const dropped: string[] = [];
  const keep = (list: readonly string[]): string[] => list.filter((name) => {
    const bad = UNSERVABLE.some((re) => re.test(name));
    if (bad) dropped.push(name);
    return !bad;
  });
  const algorithms = {
    kex: keep(configured.kex),
    serverHostKey: keep(configured.serverHostKey),
    cipher: keep(configured.cipher),
    hmac: keep(configured.hmac),
    compress: keep(configured.compress),
  } as Algorithms;
  return { algorithms, dropped };
}

interface KexInitLists {
  kex: { array: string[] };
  serverHostKey: { array: string[] };
  cs: Record<'cipher' | 'mac' | 'compress' | 'lang', { array: string[] }>;
  sc: Record<'cipher' | 'mac' | 'compress' | 'lang', { array: string[] }>;
}
interface KexInitLike { lists: KexInitLists; constructor: new (lists: unknown) => KexInitLike }
/** One corrected offer per ssh2 offer (ssh2 shares one KexInit between all its connections). */
const corrected = new WeakMap<KexInitLike, KexInitLike>();

/**
 * ssh2 1.17 offers `ssh-rsa` (SHA-1 signatures) with an RSA host key whatever the configured
 * `serverHostKey` list says (its Server constructor ranks an absent `ssh-rsa` last instead of
 * leaving it out). This replaces the connection's KEXINIT offer by one whose host key
 * algorithms are only the configured ones, everything else unchanged. It must run before ssh2
 * sends its KEXINIT, which it does right after the server's 'connection' event: call it from
 * that event. Returns false when ssh2's internals are not as expected (nothing changed).
 */
export function restrictHostKeyOffer(client: Connection, allowed: readonly string[]): boolean {
  const protocol = (client as unknown as { _protocol?: { _offer?: KexInitLike } })._protocol;
  const offer = protocol?._offer;
  const lists = offer?.lists;
  const valid = (e: { array?: unknown } | undefined): boolean => Array.isArray(e?.array);
  if (!protocol || !offer || !lists || !valid(lists.kex) || !valid(lists.serverHostKey)
    || !['cs', 'sc'].every((s) => ['cipher', 'mac', 'compress', 'lang'].every((k) => valid(lists[s as 'cs']?.[k as 'lang'])))) {
    return false;
  }
  if (lists.serverHostKey.array.every((name) => allowed.includes(name))) return true;
  let replacement = corrected.get(offer);
  if (!replacement) {
    const side = (s: KexInitLists['cs']) => ({ cipher: s.cipher.array, mac: s.mac.array, compress: s.compress.array, lang: s.lang.array });
    replacement = new offer.constructor({
      kex: lists.kex.array,
      serverHostKey: lists.serverHostKey.array.filter((name) => allowed.includes(name)),
      cs: side(lists.cs),
      sc: side(lists.sc),
    });
    corrected.set(offer, replacement);
  }
  protocol._offer = replacement;
  return true;
}
