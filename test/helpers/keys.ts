import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  privatePath: string;
  publicPath: string;
  publicKey: string;
  /** `SHA256:…` */
  fingerprint: string;
}

/** A real key pair made by ssh-keygen. */
export function makeKey(type: 'ed25519' | 'rsa' | 'ecdsa' | 'dsa' = 'ed25519', bits?: number, dir = mkdtempSync(join(tmpdir(), 'fg-key-'))): TestKey {
  const privatePath = join(dir, `id_${type}${bits ? `_${bits}` : ''}`);
  const args = ['-q', '-t', type, '-N', '', '-C', `test-${type}${bits ?? ''}`, '-f', privatePath];
  if (bits) args.push('-b', String(bits));
  execFileSync('ssh-keygen', args, { stdio: 'ignore' });
  const publicPath = `${privatePath}.pub`;
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicPath], { encoding: 'utf8' }).split(' ')[1]!;
  return { privatePath, publicPath, publicKey: readFileSync(publicPath, 'utf8').trim(), fingerprint };
}
