import type { Algorithms } from 'ssh2';
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
