import { FluxgateError } from '../errors';
import type { FluxManifest } from '../plugin-api/manifest';

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
  if (m.profiles !== undefined && (!Array.isArray(m.profiles) || m.profiles.some((p) => !PROFILES.includes(p)))) {
    fail(`profiles ${JSON.stringify(m.profiles)}: expected a list of ${PROFILES.map((p) => `"${p}"`).join(' and ')}`);
  }
  const permissions = m.permissions;
  if (!permissions || typeof permissions !== 'object') return fail('the manifest has no permissions: { read: [...], write: [...], network: false }');
  if (typeof permissions.network !== 'boolean') fail(`permissions.network is ${JSON.stringify(permissions.network)}, expected true or false`);
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
