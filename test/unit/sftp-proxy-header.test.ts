import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksLikeProxyHeader, parseProxyHeader } from '../../core/sftp/proxy-header';
import { configSchema } from '../../core/config/schema';

// Bytes captured from Debian's haproxy 2.6 (`server … send-proxy-v2`, `send-proxy`, and
// `check-send-proxy` health checks) in front of a plain TCP listener; the client wrote
// `SSH-2.0-x\r\n`, which haproxy sent in the same segment as the header.
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SSH = Buffer.from('SSH-2.0-x\r\n');
const V2_SIG = '0d0a0d0a000d0a515549540a';
const HAPROXY_V2_IPV4 = hex(`${V2_SIG} 21 11 000c 7f000001 7f000001 9c48 47e1`);
const HAPROXY_V2_IPV6 = hex(`${V2_SIG} 21 21 0024 00000000000000000000000000000001 00000000000000000000000000000001 e970 47e2`);
const HAPROXY_V2_LOCAL = hex(`${V2_SIG} 20 00 0000`);
const HAPROXY_V1 = Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 58366 18403\r\n');

function complete(data: Buffer) {
  const parsed = parseProxyHeader(data);
  assert.equal(parsed.state, 'complete', JSON.stringify(parsed));
  return parsed.header;
}

function invalidReason(data: Buffer): string {
  const parsed = parseProxyHeader(data);
  assert.equal(parsed.state, 'invalid', JSON.stringify(parsed));
  return parsed.reason;
}

test('v2 from haproxy, IPv4: the client address and port, and where the client bytes start', () => {
  const header = complete(Buffer.concat([HAPROXY_V2_IPV4, SSH]));
  assert.deepEqual(header, {
    version: 2, command: 'proxy', length: 28,
    source: { address: '127.0.0.1', port: 40008, family: 'IPv4' },
    destination: { address: '127.0.0.1', port: 18401, family: 'IPv4' },
  });
  assert.equal(Buffer.concat([HAPROXY_V2_IPV4, SSH]).subarray(header.length).toString(), 'SSH-2.0-x\r\n');
});

test('v2 from haproxy, IPv6: canonical text; an IPv4-mapped source is the IPv4 client', () => {
  const header = complete(HAPROXY_V2_IPV6);
  assert.equal(header.length, 52);
  assert.equal(header.command, 'proxy');
  if (header.command !== 'proxy') return;
  assert.deepEqual(header.source, { address: '::1', port: 59760, family: 'IPv6' });
  assert.equal(header.destination.port, 18402);

  const mapped = hex(`${V2_SIG} 21 21 0024 00000000000000000000ffffc0000207 20010db8000000000000000000000001 0016 0016`);
  const m = complete(mapped);
  assert.ok(m.command === 'proxy');
  assert.deepEqual(m.source, { address: '192.0.2.7', port: 22, family: 'IPv4' });
  assert.deepEqual(m.destination, { address: '2001:db8::1', port: 22, family: 'IPv6' });
});

test('v2 LOCAL (a health check) carries no client: the socket address stands', () => {
  assert.deepEqual(complete(HAPROXY_V2_LOCAL), { version: 2, command: 'local', length: 16 });
  // Whatever address block a LOCAL header has is skipped.
  assert.deepEqual(complete(hex(`${V2_SIG} 20 11 000c 0a000001 0a000002 0001 0002`)), { version: 2, command: 'local', length: 28 });
});

test('v2 TLVs after the addresses are skipped (their length counts)', () => {
  // PP2_TYPE_UNIQUE_ID (0x05), 4 bytes, and PP2_TYPE_NOOP (0x04), 2 bytes.
  const header = complete(hex(`${V2_SIG} 21 11 0018 c0000201 c6336407 d431 0016 05 0004 61626364 04 0002 0000`));
  assert.equal(header.length, 16 + 24);
  assert.ok(header.command === 'proxy');
  assert.equal(header.source.address, '192.0.2.1');
  assert.equal(header.destination.address, '198.51.100.7');
});

test('v1 from haproxy (send-proxy), TCP6 and UNKNOWN', () => {
  assert.deepEqual(complete(Buffer.concat([HAPROXY_V1, SSH])), {
    version: 1, command: 'proxy', length: HAPROXY_V1.length,
    source: { address: '127.0.0.1', port: 58366, family: 'IPv4' },
    destination: { address: '127.0.0.1', port: 18403, family: 'IPv4' },
  });
  const v6 = complete(Buffer.from('PROXY TCP6 2001:DB8:0:0::7 ::1 4000 22\r\n'));
  assert.ok(v6.command === 'proxy');
  assert.equal(v6.source.address, '2001:db8::7');
  assert.deepEqual(complete(Buffer.from('PROXY UNKNOWN\r\n')), { version: 1, command: 'local', length: 15 });
});

test('a header cut anywhere is incomplete, never taken for a whole one', () => {
  for (const full of [HAPROXY_V2_IPV4, HAPROXY_V2_IPV6, HAPROXY_V2_LOCAL, HAPROXY_V1]) {
    for (let n = 1; n < full.length; n++) {
      assert.deepEqual(parseProxyHeader(full.subarray(0, n)), { state: 'incomplete' }, `${n} of ${full.length} bytes`);
    }
  }
});

test('what a trusted proxy must not send instead of a header is refused, with the reason', () => {
  assert.match(invalidReason(SSH), /does not start with a PROXY protocol header \(first bytes: SSH-2\.0-x\\x0d\\x0a\)/);
  assert.match(invalidReason(hex(`${V2_SIG} 11 11 000c 7f000001 7f000001 0001 0002`)), /version 1 in a version 2 header/);
  assert.match(invalidReason(hex(`${V2_SIG} 22 11 000c 7f000001 7f000001 0001 0002`)), /unknown PROXY protocol v2 command 2/);
  assert.match(invalidReason(hex(`${V2_SIG} 21 12 000c 7f000001 7f000001 0001 0002`)), /datagram/);
  assert.match(invalidReason(hex(`${V2_SIG} 21 11 0008 7f000001 7f000001`)), /IPv4 address block of 8 bytes/);
  assert.match(invalidReason(hex(`${V2_SIG} 21 00 0000`)), /unspecified address family/);
  assert.match(invalidReason(Buffer.concat([hex(`${V2_SIG} 21 31 00d8`), Buffer.alloc(216)])), /UNIX socket/);
  assert.match(invalidReason(hex(`${V2_SIG} 21 11 ffff`)), /more than the 4112 accepted/);
  assert.match(invalidReason(Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 58366\r\n')), /does not have 6 fields/);
  assert.match(invalidReason(Buffer.from('PROXY TCP4 ::1 127.0.0.1 1 2\r\n')), /not a TCP4 one/);
  assert.match(invalidReason(Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 70000 22\r\n')), /not a TCP4 one/);
  assert.match(invalidReason(Buffer.from('PROXY UDP4 127.0.0.1 127.0.0.1 1 22\r\n')), /TCP4, TCP6 or UNKNOWN expected/);
  assert.match(invalidReason(Buffer.from(`PROXY ${'x'.repeat(120)}`)), /without CRLF in its first 107 bytes/);
});

test('looksLikeProxyHeader tells a header (either version) from an SSH identification, early', () => {
  assert.equal(looksLikeProxyHeader(HAPROXY_V2_LOCAL), 'yes');
  assert.equal(looksLikeProxyHeader(HAPROXY_V1), 'yes');
  assert.equal(looksLikeProxyHeader(HAPROXY_V2_IPV4.subarray(0, 5)), 'maybe');
  assert.equal(looksLikeProxyHeader(Buffer.from('PROX')), 'maybe');
  assert.equal(looksLikeProxyHeader(SSH), 'no');
  assert.equal(looksLikeProxyHeader(Buffer.from('S')), 'no');
});

test('cluster.trustedProxies takes addresses and CIDRs, and refuses anything else; nodeId is optional', () => {
  const ok = configSchema.parse({ cluster: { trustedProxies: ['10.0.0.0/24', '192.0.2.7', '2001:db8::/32'], nodeId: 'node-a' } });
  assert.deepEqual(ok.cluster, { trustedProxies: ['10.0.0.0/24', '192.0.2.7', '2001:db8::/32'], nodeId: 'node-a' });
  assert.deepEqual(configSchema.parse({}).cluster, { trustedProxies: [] });
  for (const bad of ['10.0.0.0/33', 'lb.example.com', '10.0.0.1/8/1', '::1/129', '']) {
    const r = configSchema.safeParse({ cluster: { trustedProxies: [bad] } });
    assert.equal(r.success, false, bad);
    assert.match(r.error.issues[0].message, /not an IPv4 or IPv6 address or CIDR/);
  }
});
