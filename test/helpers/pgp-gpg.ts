import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type LoadedConfig } from '../../core/config';
import type { RunResult } from './clients';

/**
 * Runs a command with no standard input. (The shared `run` helper pipes stdin, and gpg may exit
 * before reading it: writing to it then fails with EPIPE, an uncaught error in the test.)
 */
function runNoInput(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** GnuPG as an HRIS would drive it: its own throw-away home directory, batch mode. */
export class Gpg {
  readonly home: string;

  constructor(dir = mkdtempSync(join(tmpdir(), 'fg-gpg-'))) {
    this.home = dir;
  }

  async run(...args: string[]): Promise<RunResult> {
    return runNoInput('gpg', ['--homedir', this.home, '--batch', '--yes', '--no-tty', '--pinentry-mode', 'loopback', ...args]);
  }

  /** Runs gpg and throws with its stderr when it fails. */
  async ok(...args: string[]): Promise<RunResult> {
    const r = await this.run(...args);
    if (r.code !== 0) throw new Error(`gpg ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r;
  }

  importKey(file: string): Promise<RunResult> { return this.ok('--import', file); }

  /** The fingerprint (40 hex digits, upper case) of the key this home holds for `userId`. */
  async fingerprintOf(userId: string): Promise<string> {
    const colons = await this.ok('--with-colons', '--fingerprint', userId);
    const fingerprint = colons.stdout.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9];
    if (!fingerprint) throw new Error(`gpg has no fingerprint for ${userId}:\n${colons.stdout}`);
    return fingerprint;
  }

  /** Encrypts for `recipient` (a fingerprint) as a client would, trusting the imported key. */
  encrypt(recipient: string, input: string, output: string, extra: string[] = []): Promise<RunResult> {
    return this.ok('--trust-model', 'always', '--recipient', recipient, '--output', output, ...extra, '--encrypt', input);
  }

  verify(signature: string, file: string): Promise<RunResult> { return this.run('--verify', signature, file); }

  /** Stops the gpg-agent this home directory started (it outlives the test otherwise). */
  async close(): Promise<void> {
    await runNoInput('gpgconf', ['--homedir', this.home, '--kill', 'all']);
  }
}

/** A LoadedConfig for a data dir, as loadConfig would give it (no config file). */
export function loadedConfigFor(dataDir: string, raw: Record<string, unknown> = {}, file?: string): LoadedConfig {
  const config = parseConfig({ dataDir, ...raw });
  return { config, file, dataDir, workflowsDir: join(dataDir, 'workflows') };
}
