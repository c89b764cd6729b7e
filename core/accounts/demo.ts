import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import type { DataPaths } from '../config/paths';
import { generateSshKeyPairSync } from '../ssh-keygen';
import type { AccountService } from './account-service';

export const DEMO_ACCOUNT = 'demo';

/**
 * First start on embedded defaults: a `demo` exchange account with a fresh ed25519 key pair,
 * the private key in `<data>/demo/id_ed25519` (0600), so `npm start` can be tried at once.
 * Returns the private key path.
 */
export async function createDemoAccount(accounts: AccountService, paths: DataPaths): Promise<string> {
  const keys = generateSshKeyPairSync({ type: 'ed25519', comment: 'demo@fluxgate' });
  mkdirSync(paths.demoDir, { recursive: true, mode: 0o700 });
  const privatePath = join(paths.demoDir, 'id_ed25519');
  writeFileSync(privatePath, keys.private, { mode: 0o600 });
  writeFileSync(`${privatePath}.pub`, `${keys.public}\n`, { mode: 0o644 });
  await accounts.create({ id: DEMO_ACCOUNT, profile: 'exchange', publicKey: keys.public });
  return privatePath;
}

/** The exact command to try the demo account. */
export function demoCommand(privatePath: string, host: string, port: number, cwd = process.cwd()): string {
  const rel = relative(cwd, privatePath);
  const keyPath = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : privatePath;
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `sftp -i ${keyPath} -P ${port} ${DEMO_ACCOUNT}@${target}`;
}
