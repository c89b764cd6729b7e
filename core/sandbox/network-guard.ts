import type * as Dgram from 'node:dgram';
import type * as Dns from 'node:dns';
import type * as Net from 'node:net';
import { networkAllows } from '../workflow/manifest-check';

// The modules themselves (what a plugin's require gets), not a compiler's namespace copy of them.
/* eslint-disable @typescript-eslint/no-require-imports */
const net = require('node:net') as typeof Net;
const dgram = require('node:dgram') as typeof Dgram;
const dns = require('node:dns') as typeof Dns;
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The network guard of the sandbox process, installed before the plugin loads: every TCP or
 * IPC connection (net, http, https, tls, fetch all end in net.Socket#connect), UDP socket and
 * DNS query is refused unless the manifest's permissions.network names its host:port.
 *
 * Node 24's permission model has no network control, so there this guard is all there is: it
 * holds against code that uses Node's modules (the originals are unreachable: replaced on the
 * shared prototypes and modules, non-writable; `process.binding` is refused by --permission),
 * not against a flaw in Node. From Node 25 the runtime refuses the network itself when the
 * manifest grants none (no --allow-net); with a host list it allows the network and this guard
 * narrows it to those hosts.
 */
export function installNetworkGuard(network: boolean | readonly string[]): void {
  if (network === true) return;
  const refuse = (resource: string): Error => Object.assign(
    new Error(`Access to this API has been restricted: the network (${resource}) is not granted`),
    { code: 'ERR_ACCESS_DENIED', permission: 'Net', resource });

  // eslint-disable-next-line @typescript-eslint/unbound-method -- the original, called with apply on the socket
  const connect = net.Socket.prototype.connect;
  lock(net.Socket.prototype, 'connect', function guardedConnect(this: Net.Socket, ...args: unknown[]) {
    const target = connectTarget(args);
    if (!('path' in target) && networkAllows(network, target.host, target.port)) {
      return (connect as (...a: unknown[]) => Net.Socket).apply(this, args);
    }
    throw refuse('path' in target ? target.path : `${target.host}:${target.port}`);
  });
  for (const method of ['send', 'connect', 'bind'] as const) {
    lock(dgram.Socket.prototype, method, () => { throw refuse('udp'); });
  }
  for (const mod of [dns, dns.promises] as unknown as Array<Record<string, unknown>>) {
    for (const name of Object.keys(mod)) {
      if (name === 'lookup' || name === 'lookupService' || name.startsWith('resolve') || name === 'reverse') {
        lock(mod, name, (host: unknown) => { throw refuse(`dns ${String(host)}`); });
      }
    }
  }
}

function lock(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: false, configurable: false, enumerable: false });
}

/** net.Socket#connect's target from its many signatures (options, port+host, path, Node's normalised array). */
function connectTarget(args: unknown[]): { host: string; port: number } | { path: string } {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (first && typeof first === 'object') {
    const o = first as { path?: unknown; host?: unknown; port?: unknown };
    if (typeof o.path === 'string' && o.path) return { path: o.path };
    return { host: typeof o.host === 'string' ? o.host : 'localhost', port: Number(o.port) };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: Number(first) };
}
