import { spawn } from 'node:child_process';
import { PYTHON } from './tools';

/**
 * A paramiko client that uploads a list of files one after another over one SFTP session, each
 * as `<name>.filepart` then renamed to `<name>`, and that survives the node behind its session
 * dying (SIGKILL, or a stop): it reconnects (through the balancer, to another node) and goes on.
 * The rename is what publishes a file, so after a lost connection it decides from the `.filepart`:
 * still there, the file was not published (written again, renamed again); gone after a rename
 * was sent, it was. Each file is thus published once, as a real HRIS client would make sure.
 * argv: port user key source-dir remote-dir; the names on stdin, one a line. Prints one JSON line.
 */
const CLIENT = `
import json, os, socket, sys, time, paramiko
port, user, key, src, remote = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
names = sys.stdin.read().split()
pkey = paramiko.Ed25519Key.from_private_key_file(key)

def connect():
    last = None
    for _ in range(120):
        try:
            sock = socket.create_connection(('127.0.0.1', port), timeout=15, source_address=('127.0.0.1', 0))
            t = paramiko.Transport(sock)
            t.banner_timeout = 15
            t.auth_timeout = 15
            t.connect(username=user, pkey=pkey)
            s = paramiko.SFTPClient.from_transport(t)
            s.get_channel().settimeout(30)
            return t, s
        except Exception as e:
            last = e
            time.sleep(0.25)
    raise SystemExit('cannot connect through port %d: %r' % (port, last))

def exists(s, path):
    try:
        s.stat(path)
        return True
    except IOError:
        return False

transport, sftp = connect()
reconnects, i = 0, 0
while i < len(names):
    final = remote + '/' + names[i]
    part = final + '.filepart'
    renaming = False
    try:
        sftp.put(os.path.join(src, names[i]), part)
        renaming = True
        sftp.rename(part, final)
        i += 1
    except Exception as e:
        reconnects += 1
        if reconnects > 50:
            raise SystemExit('gave up after %d reconnects, at %s: %r' % (reconnects, names[i], e))
        try:
            transport.close()
        except Exception:
            pass
        transport, sftp = connect()
        if renaming and not exists(sftp, part):
            i += 1
transport.close()
print(json.dumps({'uploaded': len(names), 'reconnects': reconnects}))
`;

export interface UploadResult { uploaded: number; reconnects: number }

/** Uploads `names` (files of `sourceDir`) to `remoteDir` as `user`, reconnecting through `port` whenever its session is lost. */
export function uploadResilient(port: number, user: string, keyPath: string, sourceDir: string, remoteDir: string, names: string[]): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', CLIENT, String(port), user, keyPath, sourceDir, remoteDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) { reject(new Error(`upload client for ${user} exited with ${code}: ${stderr.trim() || stdout.trim()}`)); return; }
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as UploadResult);
    });
    child.stdin.end(names.join('\n') + '\n');
  });
}
