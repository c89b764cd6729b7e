import type { Socket } from 'node:net';
import { canonicalAddress, isAddressAllowed, normalizeAllowlist } from '../accounts/allowlist';
import type { Logger } from '../logging/logger';
import { looksLikeProxyHeader, parseProxyHeader, type ProxyEndpoint } from './proxy-header';
import { RefusalLog } from './refusal-log';

/**
 * How long a trusted proxy has to send its PROXY header once connected. A load balancer sends it
 * with its first packet, before any client byte: a proxy that has not after this is not one.
 */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

/** The proxy a connection came through, for the sockets whose remote address was replaced. */
const relayedBy = new WeakMap<Socket, string>();

/** The trusted proxy whose PROXY header gave this socket its remote address, if any. */
export function proxyOf(socket: Socket | undefined): string | undefined {
  return socket ? relayedBy.get(socket) : undefined;
}

/**
 * PROXY protocol (v2, and v1 text) in front of ssh2, for `cluster.trustedProxies`. A connection
 * from a trusted proxy must start with a header: it is read (with a deadline) before ssh2 sees
 * a byte, and the real client's address then replaces the socket's own, so that everything
 * after (the startup gate's bans and per-address limits, ssh2's connection info, allowlists, the
 * audit log) sees the client and never the proxy. Any other connection that starts with a PROXY
 * header is refused: only a trusted proxy may say where a connection comes from.
 */
export class ProxyProtocol {
  private readonly trusted: string[];
  private readonly refusals: RefusalLog;

  constructor(trustedProxies: readonly string[], private readonly log: Logger, private readonly timeoutMs = PROXY_HEADER_TIMEOUT_MS) {
    this.trusted = normalizeAllowlist(trustedProxies, Number.MAX_SAFE_INTEGER);
    this.refusals = new RefusalLog(log);
  }

  /** An address in `cluster.trustedProxies` (an empty list trusts none). */
  isTrusted(address: string): boolean {
    return this.trusted.length > 0 && isAddressAllowed(address, this.trusted);
  }

  /**
   * Hands `admit` the socket once its real client address is known: at once for a connection
   * from any address but a trusted proxy's, after its PROXY header for a trusted proxy's. A
   * connection refused here is destroyed and logged (FG_PROXY_HEADER, FG_PROXY_UNTRUSTED).
   */
  accept(socket: Socket, admit: (socket: Socket) => void): void {
    if (!socket.remoteAddress) {
      socket.destroy();
      return;
    }
    const peer = canonicalAddress(socket.remoteAddress);
    if (this.isTrusted(peer)) {
      this.readHeader(socket, peer, admit);
      return;
    }
    this.refuseHeaderFromUntrusted(socket, peer);
    admit(socket);
  }

  private readHeader(socket: Socket, proxy: string, admit: (socket: Socket) => void): void {
    let received: Buffer = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', finish);
    };
    // Throttled per kind (a bad header, no header in time): one line of each per 10 s and proxy.
    const refuse = (reason: string, kind = 'proxy-header'): void => {
      finish();
      socket.destroy();
      this.refusals.warn(proxy, kind, 'connection refused: a connection from a trusted proxy must start with a valid PROXY protocol header', {
        code: 'FG_PROXY_HEADER', reason, setting: 'cluster.trustedProxies',
      });
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const parsed = parseProxyHeader(received);
      if (parsed.state === 'incomplete') return;
      if (parsed.state === 'invalid') return refuse(parsed.reason);
      finish();
      // The client's first bytes, if they came with the header, go back for ssh2 to read
      // (ssh2 pauses the socket, then resumes it once its own 'data' listener is on).
      socket.pause();
      const rest = received.subarray(parsed.header.length);
      if (rest.length > 0) socket.unshift(rest);
      const { header } = parsed;
      if (header.command === 'proxy') impersonate(socket, header.source, proxy);
      this.log.debug({ proxy, address: header.command === 'proxy' ? header.source.address : proxy, version: header.version, command: header.command },
        'PROXY protocol header read');
      admit(socket);
    };
    // A proxy that resets before its header must not crash the process; the socket just closes.
    const onError = (err: Error): void => { this.log.debug({ proxy, err: err.message }, 'connection error before its PROXY header'); };
    const timer = setTimeout(() => refuse(`no complete PROXY protocol header within ${this.timeoutMs} ms`, 'proxy-header-timeout'), this.timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', finish);
  }

  /**
   * Watches the first bytes of a connection from an address that is no trusted proxy: a PROXY
   * header there is a client claiming another address, refused with its own code. (ssh2, which
   * reads the same bytes, would refuse them too, as a line that is no SSH identification, but
   * without saying why.) The bytes are only looked at; ssh2 gets them as they come.
   */
  private refuseHeaderFromUntrusted(socket: Socket, address: string): void {
    let first: Buffer = Buffer.alloc(0);
    const look = (chunk: Buffer): void => {
      first = first.length === 0 ? chunk : Buffer.concat([first, chunk]);
      const verdict = looksLikeProxyHeader(first);
      if (verdict === 'maybe') return;
      socket.off('data', look);
      if (verdict === 'no') return;
      socket.destroy();
      this.refusals.warn(address, 'proxy-untrusted', 'connection refused: a PROXY protocol header from an address not in cluster.trustedProxies', {
        code: 'FG_PROXY_UNTRUSTED', setting: 'cluster.trustedProxies',
      });
    };
    // First among the listeners: the verdict comes before ssh2 reads the same bytes.
    socket.prependListener('data', look);
  }
}

/**
 * Gives the socket the real client's address and port in place of the proxy's. ssh2 reads
 * `remoteAddress` and `remotePort` itself to make the connection info the handler gets, and
 * the startup gate reads them: replacing them on the socket is what makes every later reader
 * see the client, with no path left that could see the proxy's (perhaps allowlisted) address.
 */
function impersonate(socket: Socket, client: ProxyEndpoint, proxy: string): void {
  relayedBy.set(socket, proxy);
  Object.defineProperty(socket, 'remoteAddress', { value: client.address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: client.port, configurable: true });
  Object.defineProperty(socket, 'remoteFamily', { value: client.family, configurable: true });
}
