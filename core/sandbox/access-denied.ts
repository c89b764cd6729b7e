import { relative, sep } from 'node:path';
import type { FluxManifest } from '../plugin-api/manifest';
import { describeNetwork } from '../workflow/manifest-check';
import type { WireError } from './protocol';

/** An error of Node's permission model (or of the sandbox's network guard), found on err or its causes. */
export interface AccessDenied {
  permission?: string;
  resource?: string;
  message: string;
}

export function findAccessDenied(err: unknown): AccessDenied | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { code?: unknown; permission?: unknown; resource?: unknown; message?: unknown };
    if (x.code === 'ERR_ACCESS_DENIED') {
      return {
        permission: typeof x.permission === 'string' ? x.permission : undefined,
        resource: typeof x.resource === 'string' ? x.resource : undefined,
        message: String(x.message),
      };
    }
  }
  return undefined;
}

export interface GrantView {
  manifest: FluxManifest;
  accountId: string;
  accountRoot: string;
  vaultRoot: string;
}

const list = (grants: readonly string[]): string => (grants.length ? grants.map((g) => `"${g}"`).join(', ') : 'nothing');

/** Where a denied path is, said against the account: `out/sal/x` of this account, or outside it. */
function where(resource: string | undefined, view: GrantView): string {
  if (!resource) return 'a path';
  const inside = (root: string) => resource === root || resource.startsWith(root + sep);
  if (inside(view.accountRoot)) return `"${relative(view.accountRoot, resource) || '.'}" (account ${view.accountId}'s tree)`;
  if (inside(view.vaultRoot)) return `"vault/${relative(view.vaultRoot, resource)}" (account ${view.accountId}'s vault)`;
  return `"${resource}" (outside account ${view.accountId}: no grant can name it)`;
}

/**
 * FG_PLUGIN_PERMISSION naming the grant a refused access needed, as Deno's errors name the
 * flag (`--allow-read`): what was refused, what the manifest grants, what would allow it.
 */
export function permissionError(denied: AccessDenied, view: GrantView, original: WireError): WireError {
  const { manifest } = view;
  const flux = manifest.flux;
  const p = manifest.permissions;
  let grant: string;
  let what: string;
  switch (denied.permission) {
    case 'FileSystemRead':
      grant = 'permissions.read';
      what = `may not read ${where(denied.resource, view)}: its manifest grants read on ${list([...p.read, ...p.write])} and the file's input`;
      break;
    case 'FileSystemWrite':
      grant = 'permissions.write';
      what = `may not write ${where(denied.resource, view)}: its manifest grants write on ${list(p.write)}`;
      break;
    case 'ChildProcess':
      grant = 'child processes';
      what = `may not start a program (${denied.resource ?? 'child_process'}): no manifest grants child processes to a plugin`;
      break;
    case 'WorkerThreads':
      grant = 'worker threads';
      what = 'may not start a worker thread: no manifest grants worker threads to a plugin';
      break;
    case 'Addon':
    case 'AddonLoad':
      grant = 'native addons';
      what = 'may not load a native addon: no manifest grants native addons to a plugin';
      break;
    case 'Net':
    case undefined:
      if (denied.permission === 'Net' || /net|connect|socket|dns/i.test(denied.message)) {
        grant = 'permissions.network';
        what = `may not connect to ${denied.resource ?? 'the network'}: its manifest's permissions.network grants ${describeNetwork(p.network)}`;
        break;
      }
      grant = 'a capability';
      what = `was refused by the sandbox: ${denied.message}`;
      break;
    default:
      grant = denied.permission;
      what = `may not use ${denied.permission}${denied.resource ? ` (${denied.resource})` : ''}: no manifest grants it to a plugin`;
  }
  return {
    name: 'FluxgateError',
    code: 'FG_PLUGIN_PERMISSION',
    message: `handler for flux "${flux}" ${what} (missing grant: ${grant})`,
    stack: original.stack,
    details: { grant, permission: denied.permission ?? null, resource: denied.resource ?? null, flux },
  };
}
