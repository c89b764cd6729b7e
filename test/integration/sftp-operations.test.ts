import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer } from '../helpers/server';
import { PARAMIKO_CONNECT, python } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';

// Operations the audit of real clients (OpenSSH sftp, paramiko) against the server found wrong:
// uploads shared between sessions, write limits, hidden names, in-place changes in dev/,
// names that are not UTF-8, SETSTAT of missing paths. One server for the file; engine.watch is
// off so files placed directly stay put (intake hears the SFTP server's announcements).
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
let server: TestServer;
let key: TestKey;
let dropKey: TestKey;
const local = mkdtempSync(join(tmpdir(), 'fg-sftp-ops-'));
const root = (...p: string[]): string => join(server.dataDir, 'sftp', 'acme', ...p);
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const args = (): string[] => [String(server.port), 'acme', key.privatePath];

/** A second paramiko connection (another SSH session of the same account): `other`. */
const SECOND_SESSION = `
ssh_b = paramiko.SSHClient()
ssh_b.set_missing_host_key_policy(paramiko.AutoAddPolicy())
ssh_b.connect('127.0.0.1', port=port, username=user, pkey=pkey, allow_agent=False, look_for_keys=False, timeout=10)
other = ssh_b.open_sftp()
def attempt(label, fn):
    try:
        fn()
        print(label, 'OK', flush=True)
    except IOError as e:
        print(label, 'REFUSED', e.errno, str(e), flush=True)
`;

const outcome = (stdout: string, label: string): string => stdout.split('\n').find((l) => l.startsWith(`${label} `)) ?? `${label} (no line)`;

async function journal(): Promise<Array<Record<string, unknown>>> {
  const r = await server.cli('files', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  dropKey = makeKey('ed25519');
  server = await new TestServer({ config: { engine: { watch: false } } }).start();
  const add = await server.cli('account', 'add', 'acme', '--key', key.publicPath);
  assert.equal(add.code, 0, add.stderr);
  const addDrop = await server.cli('account', 'add', 'drop', '--profile', 'dropbox', '--key', dropKey.publicPath);
  assert.equal(addDrop.code, 0, addDrop.stderr);
});

after(async () => { await server?.stop(); await server?.cleanup(); rmSync(local, { recursive: true, force: true }); });

test('a .filepart another session is writing cannot be renamed (completed), removed or opened for writing; once closed it completes whole', { skip }, async () => {
  const name = 'ndmat_acme_acme_pro_250101120000.csv';
  const part = `/in/pro/${name}.filepart`;
  const r = await python(`${PARAMIKO_CONNECT}${SECOND_SESSION}
f = sftp.open('${part}', 'w')
f.write(b'ORIGINAL-CONTENT')
f.flush()
attempt('rename', lambda: other.rename('${part}', '/in/pro/${name}'))
attempt('remove', lambda: other.remove('${part}'))
attempt('open-w', lambda: other.open('${part}', 'w').close())
attempt('open-a', lambda: other.open('${part}', 'a').close())
attempt('own-rename', lambda: sftp.rename('${part}', '/in/pro/${name}'))
f.write(b'-AND-MORE')
f.close()
attempt('after-close', lambda: other.rename('${part}', '/in/pro/${name}'))
ssh_b.close()
ssh.close()
`, args());
  assert.equal(r.code, 0, r.stderr);
  assert.match(outcome(r.stdout, 'rename'), /REFUSED 13 .*being written by another session/, r.stdout);
  assert.match(outcome(r.stdout, 'remove'), /REFUSED 13 .*being written by another session/, r.stdout);
  assert.match(outcome(r.stdout, 'open-w'), /REFUSED 13 .*being written by another session/, r.stdout);
  assert.match(outcome(r.stdout, 'open-a'), /REFUSED 13 .*being written by another session/, r.stdout);
  assert.match(outcome(r.stdout, 'own-rename'), /REFUSED 13 .*still open in this session: close it before renaming/, r.stdout);
  assert.match(outcome(r.stdout, 'after-close'), /after-close OK/, r.stdout);
  // Intake took the complete file, and only once.
  const expected = 'ORIGINAL-CONTENT-AND-MORE';
  const done = await server.waitForLog((l) => l.component === 'intake' && l.msg === 'file received' && l.path === `in/pro/${name}`);
  assert.equal(done.size, expected.length);
  assert.equal(done.sha256, sha256(expected));
  const rows = (await journal()).filter((f) => f.name === name);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.sha256, sha256(expected));
  const denied = server.logs.filter((l) => l.msg === 'denied' && l.path === part);
  assert.deepEqual([...new Set(denied.map((l) => l.op))].sort(), ['open', 'remove', 'rename']);
});

test('a direct upload in progress in one session blocks another session writing, removing or renaming onto the same name', { skip }, async () => {
  const r = await python(`${PARAMIKO_CONNECT}${SECOND_SESSION}
with other.open('/dev/shared.txt.filepart', 'w') as g:
    g.write(b'other')
f = sftp.open('/dev/shared.txt', 'w')
f.write(b'first session')
f.flush()
attempt('open-w', lambda: other.open('/dev/shared.txt', 'w').close())
attempt('rename-onto', lambda: other.rename('/dev/shared.txt.filepart', '/dev/shared.txt'))
attempt('remove', lambda: other.remove('/dev/shared.txt'))
f.close()
attempt('after-close', lambda: other.open('/dev/shared.txt', 'w').close())
ssh_b.close()
ssh.close()
`, args());
  assert.equal(r.code, 0, r.stderr);
  assert.match(outcome(r.stdout, 'open-w'), /REFUSED 13 .*being written by another session/, r.stdout);
  assert.match(outcome(r.stdout, 'rename-onto'), /REFUSED 13 .*being written by another session: nothing can be renamed onto it/, r.stdout);
  assert.match(outcome(r.stdout, 'remove'), /REFUSED 13 .*being written by another session/, r.stdout);
  assert.match(outcome(r.stdout, 'after-close'), /after-close OK/, r.stdout);
  assert.ok(existsSync(root('dev', 'shared.txt.filepart')), 'the refused rename left the .filepart in place');
  assert.deepEqual(readdirSync(root('dev')).filter((n) => n.startsWith('.fg-upload-')), []);
});

test('an upload cut off (client killed) frees its name: another session can then complete the .filepart', { skip }, async () => {
  const cut = await python(`${PARAMIKO_CONNECT}
import os
f = sftp.open('/dev/cut.bin.filepart', 'w')
f.write(b'kept for a resume')
f.flush()
print('written', flush=True)
os._exit(3)
`, args());
  assert.equal(cut.code, 3, cut.stderr);
  await server.waitForLog((l) => l.msg === 'upload interrupted' && l.path === '/dev/cut.bin.filepart');
  const r = await python(`${PARAMIKO_CONNECT}
sftp.rename('/dev/cut.bin.filepart', '/dev/cut.bin')
print('renamed')
ssh.close()
`, args());
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(root('dev', 'cut.bin')));
});
