import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { utils } from 'ssh2';
import { describeParsedKey, type PublicKeyInfo } from '../accounts/key-policy';
import { writeFileAtomicSync } from '../atomic-write';
import { FluxgateError } from '../errors';
import type { LoadedConfig } from '../config/load';
import type { DataPaths } from '../config/paths';
import { generateSshKeyPair } from '../ssh-keygen';

/**
 * The server's host keys: ed25519 (listed first, so modern clients pick it) and RSA 4096,
 * generated on first start as OpenSSH private key files, mode 0600.
 */
export const HOST_KEY_FILES = [
  { file: 'ssh_host_ed25519_key', type: 'ed25519' as const, bits: undefined },
  { file: 'ssh_host_rsa_key', type: 'rsa' as const, bits: 4096 },
];

export interface HostKey extends PublicKeyInfo {
  path: string;
  privateKey: Buffer;
}

/**
 * Creates missing host keys; returns the paths it generated (empty when all existed).
 * Safe when several servers share the directory and start together: each key is written
 * under a temporary name and linked into place, and the first one to land wins; only the
 * winner then writes the `.pub` beside it.
 */
export async function ensureHostKeys(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const generated: string[] = [];
  for (const spec of HOST_KEY_FILES) {
    const path = join(dir, spec.file);
    if (existsSync(path)) continue;
    const comment = 'fluxgate host key';
    const keys = await generateSshKeyPair(spec.type === 'rsa' ? { type: 'rsa', bits: spec.bits, comment } : { type: 'ed25519', comment });
    if (!writeFileAtomicSync(path, keys.private, { mode: 0o600, exclusive: true })) continue;
    writeFileAtomicSync(`${path}.pub`, `${keys.public}\n`, { mode: 0o644 });
    generated.push(path);
  }
  return generated;
}

/** The host keys directory: `sftp.hostKeysDir` (relative to the config file) or `<data>/hostkeys`. */
export function hostKeysDir(loaded: Pick<LoadedConfig, 'config' | 'file'>, paths: DataPaths): string {
  const configured = loaded.config.sftp.hostKeysDir;
  if (!configured) return paths.hostKeysDir;
  return isAbsolute(configured) ? configured : resolve(loaded.file ? dirname(loaded.file) : process.cwd(), configured);
}

/** Reads every `ssh_host_*_key` in the directory, ed25519 first. */
export function loadHostKeys(dir: string): HostKey[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => /^ssh_host_\w+_key$/.test(f));
  const order = (f: string): number => { const i = HOST_KEY_FILES.findIndex((s) => s.file === f); return i < 0 ? 99 : i; };
  files.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  return files.map((file) => {
    const path = join(dir, file);
    const privateKey = readFileSync(path);
    const parsed = utils.parseKey(privateKey);
    if (parsed instanceof Error) {
      throw new FluxgateError('FG_CONFIG', `host key ${path} cannot be read: ${parsed.message}. If fluxgate made it (before 2026-11-22 one `
        + `ed25519 key in 256 was written unreadable: ssh2 issue #1390), no client ever connected with it: delete it and its .pub, and a new one is made at the next start`);
    }
    return { ...describeParsedKey(parsed), path, privateKey };
  });
}
