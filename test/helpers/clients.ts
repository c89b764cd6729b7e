import { spawn } from 'node:child_process';
import { PYTHON } from './tools';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    // A child that exits without reading its input must not crash the test with EPIPE.
    child.stdin.on('error', () => {});
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
    child.stdin.end(opts.input ?? '');
  });
}

/** OpenSSH `sftp` in batch mode: one command per line; a failing command fails the batch unless prefixed with `-`. */
export function sftpBatch(port: number, user: string, keyPath: string, commands: string[], extra: string[] = []): Promise<RunResult> {
  return run('sftp', [
    '-b', '-', '-i', keyPath, '-P', String(port),
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10',
    ...extra, `${user}@127.0.0.1`,
  ], { input: commands.join('\n') + '\n' });
}

/** Runs a Python snippet with Debian's python3 (paramiko). `args` arrive as sys.argv[1:]. */
export function python(code: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(PYTHON, ['-c', code, ...args], { env });
}

/** Paramiko prologue: connects with key file argv[1..4] = port user key; leaves `sftp` and `ssh` open. */
export const PARAMIKO_CONNECT = `
import sys, paramiko
port, user, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ssh = paramiko.SSHClient()
ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
def load_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.RSAKey, paramiko.ECDSAKey):
        try:
            return cls.from_private_key_file(path)
        except Exception:
            pass
    raise SystemExit('cannot load key ' + path)
pkey = load_key(key)
ssh.connect('127.0.0.1', port=port, username=user, pkey=pkey, allow_agent=False, look_for_keys=False, timeout=10)
sftp = ssh.open_sftp()
`;

/** Paramiko: `attempt(label, fn)` runs an SFTP call and prints `label OK` or `label REFUSED <errno> <message>` (read back by `outcome`). */
export const PARAMIKO_ATTEMPT = `
def attempt(label, fn):
    try:
        fn()
        print(label, 'OK', flush=True)
    except IOError as e:
        print(label, 'REFUSED', e.errno, str(e), flush=True)
`;

/** The line PARAMIKO_ATTEMPT printed for `label`. */
export const outcome = (stdout: string, label: string): string => stdout.split('\n').find((l) => l.startsWith(`${label} `)) ?? `${label} (no line)`;
