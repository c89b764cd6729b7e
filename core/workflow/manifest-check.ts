import { FluxgateError } from '../errors';
import { PLUGIN_API_VERSION, type FluxManifest } from '../plugin-api/manifest';

/**
 * The top folders a grant may name: the account's SFTP tree (`in`, `out`, `dev`) and its
 * document vault (`vault`, outside the tree). Anything else is refused at load: a grant of
 * `''` used to match every path (the whole tree and the vault), `../globex` another account.
 */
export const GRANT_TOP_FOLDERS = ['in', 'out', 'dev', 'vault'] as const;
const FLUX = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const PROFILES = ['exchange', 'dropbox'];

/**
 * Checks a handler's manifest when it is registered (server start, `workflows check`): the
 * flux code, the profiles, and each read/write grant. Throws FG_PLUGIN_INVALID naming the
 * handler, where it came from, the offending value and what is expected.
 */
export function checkManifest(manifest: unknown, handler: string, origin: string): asserts manifest is FluxManifest {
  const fail = (what: string): never => {
    throw new FluxgateError('FG_PLUGIN_INVALID', `handler ${handler} (${origin}): ${what}`, { handler, origin });
  };
  const m = manifest as Partial<FluxManifest> | null;
  if (!m || typeof m !== 'object') return fail('the manifest is not an object');
  if (typeof m.flux !== 'string' || !FLUX.test(m.flux)) {
    fail(`flux ${JSON.stringify(m.flux)} is not a flux code: 1-32 lower-case letters, digits, "_" and "-"`);
  }
  if (m.apiVersion === undefined || m.apiVersion === 1) {
    // Plugin API 1's directory was synchronous: run on API 2, its handler would take Promises for rows.
    fail(`${m.apiVersion === undefined ? 'declares no apiVersion, which means' : 'apiVersion 1 is'} plugin API 1, whose ctx.directory was synchronous; `
      + `this server implements plugin API ${PLUGIN_API_VERSION}, where every ctx.directory method returns a Promise and transaction(fn) is gone. `
      + 'Await each ctx.directory call, put the writes that must apply together in one ctx.directory.batch(ops), and write '
      + `apiVersion: ${PLUGIN_API_VERSION} (docs/plugin-api.md, "Changes")`);
  }
  if (m.apiVersion !== PLUGIN_API_VERSION) {
    fail(`apiVersion ${JSON.stringify(m.apiVersion)} is not one this server implements: it implements plugin API ${PLUGIN_API_VERSION} `
      + `(write apiVersion: ${PLUGIN_API_VERSION}, or run the plugin on a fluxgate that implements its version)`);
  }
  if (m.profiles !== undefined && (!Array.isArray(m.profiles) || m.profiles.some((p) => !PROFILES.includes(p)))) {
    fail(`profiles ${JSON.stringify(m.profiles)}: expected a list of ${PROFILES.map((p) => `"${p}"`).join(' and ')}`);
  }
  const permissions = m.permissions;
  if (!permissions || typeof permissions !== 'object') return fail('the manifest has no permissions: { read: [...], write: [...], network: false }');
  const network: unknown = permissions.network;
  if (Array.isArray(network)) {
    const bad: unknown = (network as unknown[]).find((h) => hostGrantProblem(h) !== undefined);
    if (bad !== undefined) fail(`permissions.network grant ${JSON.stringify(bad)} ${hostGrantProblem(bad)}`);
  } else if (typeof network !== 'boolean') {
    fail(`permissions.network is ${JSON.stringify(network)}, expected false, a list of "host:port" ("api.example.com:443") or true`);
  }
  const limits: unknown = m.limits;
  if (limits !== undefined) {
    if (!limits || typeof limits !== 'object') return fail(`limits is ${JSON.stringify(limits)}, expected { memoryMb, secondsPerFile }`);
    for (const [key, value] of Object.entries(limits)) {
      const problem = limitProblem(key, value);
      if (problem) fail(`limits.${key} ${problem}`);
    }
  }
  for (const access of ['read', 'write'] as const) {
    const grants: unknown = permissions[access];
    if (!Array.isArray(grants)) {
      return fail(`permissions.${access} is ${JSON.stringify(grants)}, expected a list of account-relative paths (${access === 'read' ? '"in/abc"' : '"out/abc"'})`);
    }
    for (const grant of grants) {
      const problem = grantProblem(grant);
      if (problem) fail(`permissions.${access} grant ${JSON.stringify(grant)} ${problem}`);
    }
  }
}

/** Why a grant is refused, or undefined. Grants are written plainly: nothing to normalise. */
export function grantProblem(grant: unknown): string | undefined {
  if (typeof grant !== 'string') return 'is not a path';
  if (grant.trim() === '') return 'is empty: it would grant the whole account tree and its vault; name a folder such as "in/abc"';
  if (grant.startsWith('/')) return 'is absolute: grants are relative to the account ("out/abc")';
  if (grant.includes('\\') || grant.includes('\0')) return 'contains a backslash or a NUL byte: write it with "/"';
  const segments = grant.replace(/\/$/, '').split('/');
  if (segments.includes('..')) return 'contains "..": a grant cannot leave the account';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." segment: write it as "top/sub"';
  if (!(GRANT_TOP_FOLDERS as readonly string[]).includes(segments[0])) {
    return `starts with the unknown top folder "${segments[0]}": a grant starts with ${GRANT_TOP_FOLDERS.map((t) => `"${t}"`).join(', ')}`;
  }
  return undefined;
}

const HOST_GRANT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/;

/** Why a network grant (`api.example.com:443`) is refused, or undefined. */
export function hostGrantProblem(grant: unknown): string | undefined {
  if (typeof grant !== 'string') return 'is not a "host:port" string';
  const m = HOST_GRANT.exec(grant);
  if (!m) return 'is not "host:port" (a host name or IP address, then a port: "api.example.com:443")';
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `has port ${port}: 1-65535`;
  return undefined;
}

/** Why a `limits` entry (manifest or workflow) is refused, or undefined. */
export function limitProblem(key: string, value: unknown): string | undefined {
  const ranges: Record<string, [number, number]> = { memoryMb: [32, 16384], secondsPerFile: [1, 86400] };
  const range = ranges[key];
  if (!range) return `is not a limit: the limits are ${Object.keys(ranges).join(' and ')}`;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
    return `is ${JSON.stringify(value)}: expected a whole number from ${range[0]} to ${range[1]}`;
  }
  return undefined;
}

/** Whether a manifest's network grant lets a handler connect to host:port. */
export function networkAllows(network: boolean | readonly string[], host: string, port: number): boolean {
  if (typeof network === 'boolean') return network;
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return network.some((grant) => {
    const at = grant.lastIndexOf(':');
    return grant.slice(0, at).replace(/^\[|\]$/g, '').toLowerCase() === bare && Number(grant.slice(at + 1)) === port;
  });
}

/** How a manifest's network grant reads in a message. */
export function describeNetwork(network: boolean | readonly string[]): string {
  if (network === true) return 'any host';
  if (network === false || network.length === 0) return 'no network (permissions.network = false)';
  return network.map((h) => `"${h}"`).join(', ');
}
