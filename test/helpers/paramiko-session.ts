import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PARAMIKO_CONNECT } from './clients';
import type { TestKey } from './keys';
import { PYTHON } from './tools';

/**
 * An open paramiko SFTP session driven one command at a time over stdin:
 * `ls PATH`, `put LOCAL REMOTE`, `wait-closed SECONDS`; each answers one line
 * (`ok …` or `error <exception> …`; `exited` once the client process is gone).
 */
export class ParamikoSession {
  private readonly lines: string[] = [];
  private waiting?: (line: string) => void;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(line); } else this.lines.push(line);
    });
  }

  /** Logs in as `user` with `key` on the server's SFTP port (any `{ port }`: a node of a cluster). */
  static async open(server: { port: number }, user: string, key: TestKey): Promise<ParamikoSession> {
    const child = spawn(PYTHON, ['-c', `${PARAMIKO_CONNECT}
import time
transport = ssh.get_transport()
print('ready', flush=True)
for line in sys.stdin:
    cmd, _, arg = line.strip().partition(' ')
    try:
        if cmd == 'ls':
            print('ok', sorted(sftp.listdir(arg)), flush=True)
        elif cmd == 'put':
            src, dst = arg.split(' ')
            sftp.put(src, dst)
            print('ok', flush=True)
        elif cmd == 'wait-closed':
            deadline = time.time() + float(arg)
            while time.time() < deadline and transport.is_active():
                time.sleep(0.05)
            print('ok closed' if not transport.is_active() else 'ok open', flush=True)
    except Exception as e:
        print('error', type(e).__name__, str(e).replace('\\n', ' '), flush=True)
`, String(server.port), user, key.privatePath]);
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const session = new ParamikoSession(child);
    const first = await session.next(15_000);
    if (first !== 'ready') throw new Error(`paramiko session for ${user} did not open: ${first}\n${stderr}`);
    return session;
  }

  private next(timeoutMs: number): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting = undefined; reject(new Error('no answer from the paramiko session')); }, timeoutMs);
      this.waiting = (l) => { clearTimeout(timer); resolve(l); };
      this.child.once('exit', () => { clearTimeout(timer); resolve('exited'); });
    });
  }

  async cmd(line: string, timeoutMs = 20_000): Promise<string> {
    this.child.stdin.write(`${line}\n`);
    return this.next(timeoutMs);
  }

  close(): void { this.child.stdin.end(); this.child.kill(); }
}
