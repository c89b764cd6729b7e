import { isIP } from 'node:net';

/**
 * The PROXY protocol header a load balancer (haproxy `send-proxy-v2`, AWS NLB, …) puts before
 * the client's bytes to tell the real client address: version 2 (binary) and version 1 (text),
 * as specified in haproxy's doc/proxy-protocol.txt. Parsed by hand: the header is a fixed
 * 16-byte prefix and an address block; what a stream reader has to do anyway (know when the
 * header ends, with a deadline) is in proxy-protocol.ts.
 */

/** `\r\n\r\n\0\r\nQUIT\n`: the first 12 bytes of every version 2 header. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');
/** Version 1: the longest line the specification allows, CRLF included. */
const V1_MAX_LENGTH = 107;
/**
 * Version 2: the address block and TLVs after the 16-byte prefix. The specification allows
 * 65,535 bytes; load balancers send well under 1 KiB (addresses: 36 bytes for IPv6, plus TLVs
 * such as a unique id or TLS details). More is refused rather than waited for.
 */
export const V2_MAX_BODY = 4096;

export interface ProxyEndpoint {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/**
 * `proxy`: a relayed connection, from `source` (the real client) to `destination` (the address
 * the client connected to on the proxy). `local`: the proxy's own connection (a health check):
 * the socket's addresses are the real ones. `length`: the header's bytes; the client's follow.
 */
export type ProxyHeader =
  | { version: 1 | 2; command: 'proxy'; length: number; source: ProxyEndpoint; destination: ProxyEndpoint }
  | { version: 1 | 2; command: 'local'; length: number };

export type ProxyParse =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  | { state: 'complete'; header: ProxyHeader };

const INCOMPLETE: ProxyParse = { state: 'incomplete' };
const invalid = (reason: string): ProxyParse => ({ state: 'invalid', reason });

/** True when `data` begins (or, while shorter, could begin) with `signature`. */
function startsWithPrefixOf(data: Buffer, signature: Buffer): boolean {
  const n = Math.min(data.length, signature.length);
  return data.subarray(0, n).equals(signature.subarray(0, n));
}

/**
 * Whether the first bytes of a connection are a PROXY header (either version): `yes`, `no`, or
 * `maybe` while they are too few to tell. An SSH client's first bytes are `SSH-`.
 */
export function looksLikeProxyHeader(data: Buffer): 'yes' | 'no' | 'maybe' {
  for (const signature of [V2_SIGNATURE, V1_SIGNATURE]) {
    if (!startsWithPrefixOf(data, signature)) continue;
    return data.length >= signature.length ? 'yes' : 'maybe';
  }
  return 'no';
}

/** Parses the PROXY header at the start of `data` (the bytes received so far). */
export function parseProxyHeader(data: Buffer): ProxyParse {
  if (data.length === 0) return INCOMPLETE;
  if (startsWithPrefixOf(data, V2_SIGNATURE)) return data.length < 16 ? INCOMPLETE : parseV2(data);
  if (startsWithPrefixOf(data, V1_SIGNATURE)) return parseV1(data);
  return invalid(`the connection does not start with a PROXY protocol header (first bytes: ${printable(data.subarray(0, 16))})`);
}

function parseV2(data: Buffer): ProxyParse {
  const version = data[12] >> 4;
  const command = data[12] & 0x0f;
  if (version !== 2) return invalid(`PROXY protocol version ${version} in a version 2 header (only 2 exists)`);
  if (command > 1) return invalid(`unknown PROXY protocol v2 command ${command} (0 LOCAL and 1 PROXY exist)`);
  const bodyLength = data.readUInt16BE(14);
  if (bodyLength > V2_MAX_BODY) return invalid(`PROXY protocol v2 header of ${16 + bodyLength} bytes: more than the ${16 + V2_MAX_BODY} accepted`);
  const length = 16 + bodyLength;
  if (data.length < length) return INCOMPLETE;
  // LOCAL: the proxy speaks for itself; whatever address block follows is ignored (spec 2.2).
  if (command === 0) return { state: 'complete', header: { version: 2, command: 'local', length } };

  const family = data[13] >> 4;
  const transport = data[13] & 0x0f;
  if (transport === 2) return invalid('PROXY protocol v2 header for a datagram (UDP) connection: SFTP runs over a stream');
  if (transport > 2) return invalid(`unknown PROXY protocol v2 transport ${transport}`);
  const body = data.subarray(16, length);
  // The TLVs that may follow the addresses (unique id, TLS details, …) are not used: skipped.
  const ip = IP_FAMILIES[family];
  if (ip) {
    // Source address, destination address, then their two ports.
    const needed = 2 * ip.bytes + 4;
    if (body.length < needed) return invalid(`PROXY protocol v2 ${ip.name} address block of ${body.length} bytes (${needed} needed)`);
    return {
      state: 'complete',
      header: {
        version: 2, command: 'proxy', length,
        source: { ...ip.decode(body.subarray(0, ip.bytes)), port: body.readUInt16BE(2 * ip.bytes) },
        destination: { ...ip.decode(body.subarray(ip.bytes, 2 * ip.bytes)), port: body.readUInt16BE(2 * ip.bytes + 2) },
      },
    };
  }
  // UNSPEC and UNIX carry no IP address to check allowlists and bans against: refused rather
  // than served as the proxy's own address (which an allowlist may well contain).
  if (family === 0) return invalid('PROXY protocol v2 PROXY command with an unspecified address family: no client IP address to check');
  if (family === 3) return invalid('PROXY protocol v2 header for a UNIX socket client: no client IP address to check');
  return invalid(`unknown PROXY protocol v2 address family ${family}`);
}

function parseV1(data: Buffer): ProxyParse {
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    return data.length >= V1_MAX_LENGTH ? invalid(`PROXY protocol v1 line without CRLF in its first ${V1_MAX_LENGTH} bytes`) : INCOMPLETE;
  }
  const length = end + 2;
  if (length > V1_MAX_LENGTH) return invalid(`PROXY protocol v1 line of ${length} bytes: more than the ${V1_MAX_LENGTH} allowed`);
  const line = data.toString('latin1', 0, end);
  const shown = printable(Buffer.from(line, 'latin1'));
  const fields = line.split(' ');
  // `PROXY UNKNOWN …`: the proxy could not tell; like v2's LOCAL, the socket's addresses stand.
  if (fields[1] === 'UNKNOWN') return { state: 'complete', header: { version: 1, command: 'local', length } };
  if (fields.length !== 6) return invalid(`PROXY protocol v1 line "${shown}" does not have 6 fields`);
  const [, protocol, src, dst, srcPort, dstPort] = fields;
  const family = protocol === 'TCP4' ? 4 : protocol === 'TCP6' ? 6 : 0;
  if (family === 0) return invalid(`PROXY protocol v1 line "${shown}": TCP4, TCP6 or UNKNOWN expected after PROXY`);
  const endpoint = (address: string, port: string): ProxyEndpoint | undefined => {
    if (isIP(address) !== family || !/^\d{1,5}$/.test(port) || Number(port) > 65535) return undefined;
    return family === 4
      ? { address, port: Number(port), family: 'IPv4' }
      : { ...ipv6Text(address), port: Number(port) };
  };
  const source = endpoint(src, srcPort);
  const destination = endpoint(dst, dstPort);
  if (!source || !destination) return invalid(`PROXY protocol v1 line "${shown}" has an address or port that is not a ${protocol} one`);
  return { state: 'complete', header: { version: 1, command: 'proxy', length, source, destination } };
}

/** The v2 address families that carry IP addresses: their size and how they read. */
const IP_FAMILIES: Record<number, { name: string; bytes: number; decode(bytes: Buffer): { address: string; family: 'IPv4' | 'IPv6' } } | undefined> = {
  1: { name: 'IPv4', bytes: 4, decode: (bytes) => ({ address: ipv4(bytes), family: 'IPv4' }) },
  2: { name: 'IPv6', bytes: 16, decode: (bytes) => ipv6(bytes) },
};

function ipv4(bytes: Buffer): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 client it maps, as allowlists see it. */
function ipv6(bytes: Buffer): { address: string; family: 'IPv4' | 'IPv6' } {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { address: ipv4(bytes.subarray(12)), family: 'IPv4' };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return ipv6Text(groups.join(':'));
}

/** The canonical (RFC 5952) text of an IPv6 address, as the URL parser writes it. */
function ipv6Text(address: string): { address: string; family: 'IPv4' | 'IPv6' } {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return { address: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`, family: 'IPv4' };
  }
  return { address: canonical, family: 'IPv6' };
}

/** Bytes for a log line: printable ASCII as is, the rest as \xNN. */
function printable(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}
