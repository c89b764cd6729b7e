import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  privatePath: string;
  publicPath: string;
  publicKey: string;
  /** `SHA256:…` */
  fingerprint: string;
}

/** Directories makeKey made for itself: removed when the process exits (benchmarks and single test files run outside npm test's temporary directory). */
const madeDirs: string[] = [];
process.once('exit', () => { for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true }); });
function keyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-key-'));
  madeDirs.push(dir);
  return dir;
}

/** A real key pair made by ssh-keygen (in `dir`, else in a directory of its own, removed at exit). */
export function makeKey(type: 'ed25519' | 'rsa' | 'ecdsa' | 'dsa' = 'ed25519', bits?: number, dir = keyDir()): TestKey {
  const privatePath = join(dir, `id_${type}${bits ? `_${bits}` : ''}`);
  const args = ['-q', '-t', type, '-N', '', '-C', `test-${type}${bits ?? ''}`, '-f', privatePath];
  if (bits) args.push('-b', String(bits));
  execFileSync('ssh-keygen', args, { stdio: 'ignore' });
  const publicPath = `${privatePath}.pub`;
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicPath], { encoding: 'utf8' }).split(' ')[1];
  return { privatePath, publicPath, publicKey: readFileSync(publicPath, 'utf8').trim(), fingerprint };
}
