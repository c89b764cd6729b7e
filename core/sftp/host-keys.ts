import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { describeParsedKey, type PublicKeyInfo } from '../accounts/key-policy';
import { FluxgateError } from '../errors';

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

function generate(type: 'ed25519' | 'rsa', bits: number | undefined, comment: string): Promise<{ private: string; public: string }> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, keys: { private: string; public: string }): void => (err ? reject(err) : resolve(keys));
    if (type === 'rsa') utils.generateKeyPair('rsa', { bits: bits ?? 4096, comment }, done);
    else utils.generateKeyPair('ed25519', { comment }, done);
  });
}

/** Creates missing host keys; returns the paths it generated (empty when all existed). */
export async function ensureHostKeys(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const generated: string[] = [];
  for (const spec of HOST_KEY_FILES) {
    const path = join(dir, spec.file);
    if (existsSync(path)) continue;
    const keys = await generate(spec.type, spec.bits, 'fluxgate host key');
    writeFileSync(path, keys.private, { mode: 0o600, flag: 'wx' });
    writeFileSync(`${path}.pub`, `${keys.public}\n`, { mode: 0o644 });
    generated.push(path);
  }
  return generated;
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
    if (parsed instanceof Error) throw new FluxgateError('FG_CONFIG', `host key ${path} cannot be read: ${parsed.message}`);
    return { ...describeParsedKey(parsed), path, privateKey };
  });
}
