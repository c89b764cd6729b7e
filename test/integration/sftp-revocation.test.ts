import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { TestServer } from '../helpers/server';
import { PARAMIKO_CONNECT, sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { PYTHON, skipUnless } from '../helpers/tools';

// What happens to sessions already open when the CLI (another process) removes, disables or
// re-keys their account while the server runs.
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
const SHARED_HOST_KEYS = join(tmpdir(), 'fluxgate-test-hostkeys');
const local = mkdtempSync(join(tmpdir(), 'fg-revoke-'));
const sample = join(local, 'ndmat_tmp1_tmp1_sal_hrmanager_v6_261120090500.csv');

/**
 * An open paramiko SFTP session driven one command at a time over stdin:
 * `ls PATH`, `put LOCAL REMOTE`, `wait-closed SECONDS`; each answers one line
 * (`ok …` or `error <exception> …`).
 */
class Session {
  private readonly lines: string[] = [];
  private waiting?: (line: string) => void;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(line); } else this.lines.push(line);
      }
    });
  }

  static async open(server: TestServer, user: string, key: TestKey): Promise<Session> {
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
    const session = new Session(child);
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

const revoked = (server: TestServer, accountId: string, reason: RegExp) =>
  server.waitForLog((l) => l.msg === 'login revoked, disconnecting' && l.accountId === accountId && reason.test(String(l.reason)));

after(() => rmSync(local, { recursive: true, force: true }));

describe('a request of a session whose account was removed and re-created', { skip }, () => {
  // Re-checks on a timer are far apart here: only the check made before each request can stop it.
  let server: TestServer;
  before(async () => {
    if (skip) return;
    writeFileSync(sample, 'registration_reference;last_name\r\n1;Doe\r\n');
    server = await new TestServer({ config: { engine: { watch: false }, sftp: { sessionRecheckSeconds: 3600, hostKeysDir: SHARED_HOST_KEYS } } }).start();
  });
  after(async () => { await server?.stop(); await server?.cleanup(); });

  test('never reaches the new account with the same id: it is refused and the session ends', async () => {
    const oldKey = makeKey('ed25519');
    const newKey = makeKey('ed25519');
    assert.equal((await server.cli('account', 'add', 'tmp1', '--key', oldKey.publicPath)).code, 0);
    const session = await Session.open(server, 'tmp1', oldKey);
    try {
      assert.equal(await session.cmd('ls /dev'), 'ok []');
      const removed = await server.cli('account', 'remove', 'tmp1');
      assert.equal(removed.code, 0, removed.stderr);
      const added = await server.cli('account', 'add', 'tmp1', '--key', newKey.publicPath);
      assert.equal(added.code, 0, added.stderr);
      // The new account's owner puts a file in its dev/.
      const own = await sftpBatch(server.port, 'tmp1', newKey.privatePath, [`put ${sample} /dev/mine.csv`]);
      assert.equal(own.code, 0, own.stderr);

      const list = await session.cmd('ls /dev');
      assert.match(list, /^error /, `the old session must not list the new account's dev/: ${list}`);
      const put = await session.cmd(`put ${sample} /in/sal/${basename(sample)}`);
      assert.match(put, /^error /, `the old session must not upload into the new account: ${put}`);
      assert.equal(await session.cmd('wait-closed 5'), 'ok closed');
    } finally {
      session.close();
    }
    const line = await revoked(server, 'tmp1', /a new account now has this id/);
    assert.equal(line.level, 40);
    const root = join(server.dataDir, 'sftp', 'tmp1');
    assert.deepEqual(readdirSync(join(root, 'in', 'sal')), [], 'nothing uploaded into the new account');
    assert.deepEqual(readdirSync(join(root, 'dev')), ['mine.csv']);
    await server.waitForLog((l) => l.msg === 'denied' && l.accountId === 'tmp1' && /this session has ended/.test(String(l.reason)));
  });
});

describe('open sessions end within sftp.sessionRecheckSeconds', { skip }, () => {
  let server: TestServer;
  const keys: Record<string, TestKey> = {};
  before(async () => {
    if (skip) return;
    server = await new TestServer({ config: { sftp: { sessionRecheckSeconds: 1, hostKeysDir: SHARED_HOST_KEYS } } }).start();
    keys.a = makeKey('ed25519');
    keys.b = makeKey('ed25519');
    for (const id of ['gone', 'off', 'rekey', 'fenced']) assert.equal((await server.cli('account', 'add', id, '--key', keys.a.publicPath)).code, 0);
    assert.equal((await server.cli('key', 'add', 'rekey', keys.b.publicPath)).code, 0);
  });
  after(async () => { await server?.stop(); await server?.cleanup(); });

  test('when the account is removed, disabled, loses the key or the address; other sessions go on', async () => {
    const sessions = {
      gone: await Session.open(server, 'gone', keys.a),
      off: await Session.open(server, 'off', keys.a),
      rekeyA: await Session.open(server, 'rekey', keys.a),
      rekeyB: await Session.open(server, 'rekey', keys.b),
      fenced: await Session.open(server, 'fenced', keys.a),
    };
    try {
      for (const s of Object.values(sessions)) assert.match(await s.cmd('ls /'), /^ok \[/);
      for (const args of [['account', 'remove', 'gone'], ['account', 'disable', 'off'], ['key', 'remove', 'rekey', keys.a.fingerprint],
        ['account', 'update', 'fenced', '--allow-ip', '192.0.2.0/24']]) {
        const r = await server.cli(...args);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      }
      // No request needed: the server ends them by itself.
      for (const name of ['gone', 'off', 'rekeyA', 'fenced'] as const) {
        assert.equal(await sessions[name].cmd('wait-closed 8'), 'ok closed', `${name} must have been disconnected`);
      }
      assert.equal(await sessions.rekeyB.cmd('wait-closed 1'), 'ok open');
      assert.match(await sessions.rekeyB.cmd('ls /'), /^ok \['dev', 'in', 'out'\]/, 'a session with the key that stays goes on');
    } finally {
      for (const s of Object.values(sessions)) s.close();
    }
    await revoked(server, 'gone', /^account removed$/);
    await revoked(server, 'off', /^account disabled$/);
    await revoked(server, 'rekey', /key used to log in was removed/);
    await revoked(server, 'fenced', /allowlist/);
    assert.equal(server.logs.filter((l) => l.msg === 'login revoked, disconnecting' && l.accountId === 'rekey').length, 1);
  });
});
