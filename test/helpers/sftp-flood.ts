import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PYTHON } from './tools';

/**
 * A hostile (or just busy) paramiko client driven over stdin, one JSON command per line, one
 * JSON answer each. It holds several connections and SFTP channels of one account, and sends
 * requests pipelined, without waiting for each answer (what a flood of OPENs looks like):
 *
 * - `{op:'connect'}` → `{conn}`; `{op:'disconnect', conn}`
 * - `{op:'channel', conn}` → `{chan}` (an SFTP session: an SSH session channel)
 * - `{op:'open', chan, kind:'read'|'dir'|'create', paths:[…], readdir?}` → `{handles, errors, entries?}`:
 *   one OPEN (or OPENDIR) per path, all sent before any answer is read; the handles stay open;
 *   `errors` counts the refusals by "<status code> <message>"; with `readdir`, one READDIR per new
 *   handle (pipelined too), `entries` being the number of names each returned (-1: a status)
 * - `{op:'blast', conn, chan, paths}` → `{}`: sends the OPENs (for reading) and drops the connection at once
 * - `{op:'close', chan}` → `{closed}`: closes the channel's handles
 * - `{op:'listdir', chan, path}` → `{names}` (paramiko's listdir: every page until EOF)
 *
 * Any failure answers `{error: "<exception>: <message>"}`.
 */
const DRIVER = `
import sys, json, paramiko
from paramiko.sftp import CMD_OPEN, CMD_OPENDIR, CMD_READDIR, CMD_CLOSE, CMD_HANDLE, CMD_STATUS, CMD_NAME
from paramiko.sftp_attr import SFTPAttributes
port, user, keypath = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def load_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.RSAKey, paramiko.ECDSAKey):
        try:
            return cls.from_private_key_file(path)
        except Exception:
            pass
    raise SystemExit('cannot load key ' + path)
pkey = load_key(keypath)
conns, chans, handles = {}, {}, {}

class Collect:
    def __init__(self):
        self.replies = {}
    def _async_response(self, t, msg, num):
        self.replies[num] = (t, msg)

def pipeline(sftp, requests):
    c = Collect()
    nums = [sftp._async_request(c, cmd, *args) for cmd, args in requests]
    while len(c.replies) < len(nums):
        sftp._read_response()
    return [c.replies[n] for n in nums]

def status(msg):
    code = msg.get_int()
    return '%d %s' % (code, msg.get_text())

READ, WRITE, CREAT = 1, 2, 8
for line in sys.stdin:
    req = json.loads(line)
    try:
        op = req['op']
        if op == 'connect':
            ssh = paramiko.SSHClient()
            ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            ssh.connect('127.0.0.1', port=port, username=user, pkey=pkey, allow_agent=False, look_for_keys=False, timeout=10)
            conns[len(conns)] = ssh
            out = {'conn': len(conns) - 1}
        elif op == 'disconnect':
            conns.pop(req['conn']).close()
            out = {}
        elif op == 'channel':
            n = len(chans)
            chans[n] = conns[req['conn']].open_sftp()
            handles[n] = []
            out = {'chan': n}
        elif op == 'open':
            sftp, chan = chans[req['chan']], req['chan']
            kind = req['kind']
            if kind == 'dir':
                requests = [(CMD_OPENDIR, (p,)) for p in req['paths']]
            else:
                flags = READ if kind == 'read' else WRITE | CREAT
                requests = [(CMD_OPEN, (p, flags, SFTPAttributes())) for p in req['paths']]
            ok, errors = [], {}
            for t, msg in pipeline(sftp, requests):
                if t == CMD_HANDLE:
                    ok.append(msg.get_binary())
                else:
                    text = status(msg)
                    errors[text] = errors.get(text, 0) + 1
            handles[chan] += ok
            out = {'handles': len(ok), 'errors': errors}
            if req.get('readdir'):
                out['entries'] = [msg.get_int() if t == CMD_NAME else -1 for t, msg in pipeline(sftp, [(CMD_READDIR, (h,)) for h in ok])]
        elif op == 'blast':
            # Sends the OPENs, then drops the connection at once, without reading an answer.
            sftp = chans[req['chan']]
            for p in req['paths']:
                sftp._async_request(type(None), CMD_OPEN, p, READ, SFTPAttributes())
            conns.pop(req['conn']).get_transport().sock.close()
            out = {}
        elif op == 'close':
            chan = req['chan']
            replies = pipeline(chans[chan], [(CMD_CLOSE, (h,)) for h in handles[chan]])
            handles[chan] = []
            out = {'closed': len(replies)}
        elif op == 'listdir':
            out = {'names': chans[req['chan']].listdir(req['path'])}
        else:
            out = {'error': 'unknown op ' + op}
    except Exception as e:
        out = {'error': '%s: %s' % (type(e).__name__, e)}
    print(json.dumps(out), flush=True)
`;

export type FloodAnswer = Record<string, unknown> & {
  error?: string;
  conn?: number;
  chan?: number;
  handles?: number;
  errors?: Record<string, number>;
  entries?: number[];
  names?: string[];
};

export class FloodClient {
  private readonly lines: string[] = [];
  private waiting?: (line: string | Error) => void;
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(line); } else this.lines.push(line);
    });
    child.stderr.on('data', (d) => { this.stderr += d; });
    child.once('exit', () => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(new Error(`the paramiko driver exited\n${this.stderr}`));
    });
  }

  /** A driver for `user` (nothing is connected until `connect`). */
  static start(port: number, user: string, keyPath: string): FloodClient {
    return new FloodClient(spawn(PYTHON, ['-c', DRIVER, String(port), user, keyPath]));
  }

  async send(command: Record<string, unknown>, timeoutMs = 60_000): Promise<FloodAnswer> {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    const line = this.lines.shift() ?? await new Promise<string>((resolve, reject) => {
      if (this.child.exitCode !== null) return reject(new Error(`the paramiko driver exited\n${this.stderr}`));
      const timer = setTimeout(() => { this.waiting = undefined; reject(new Error(`no answer to ${String(command.op)} within ${timeoutMs} ms\n${this.stderr}`)); }, timeoutMs);
      this.waiting = (l) => { clearTimeout(timer); if (l instanceof Error) reject(l); else resolve(l); };
    });
    return JSON.parse(line) as FloodAnswer;
  }

  /** Like `send`, but a failed command fails the test with its error. */
  async must(command: Record<string, unknown>, timeoutMs?: number): Promise<FloodAnswer> {
    const answer = await this.send(command, timeoutMs);
    if (answer.error) throw new Error(`${String(command.op)} failed: ${answer.error}`);
    return answer;
  }

  /** Ends every connection (the process exits). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
