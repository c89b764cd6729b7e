import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer } from '../helpers/server';
import { PARAMIKO_CONNECT, python, sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';

// One server for the whole file. engine.watch is off so files this test places directly in
// in/ stay there (intake only hears the SFTP server's announcements, not this test's writes).
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');
// Host keys shared by the test servers (sftp.hostKeysDir): RSA 4096 is generated once, not per server.
const SHARED_HOST_KEYS = join(tmpdir(), 'fluxgate-test-hostkeys');
let server: TestServer;
let key: TestKey;
let dropKey: TestKey;
const local = mkdtempSync(join(tmpdir(), 'fg-sftp-local-'));
const sample = join(local, 'sample.csv');
const root = (...p: string[]): string => join(server.dataDir, 'sftp', 'acme', ...p);

/** What the server sent back (batch output without the echoed commands). */
const output = (stdout: string): string => stdout.split('\n').filter((l) => !l.startsWith('sftp>')).join('\n');
const auditLines = (msg: string, path?: string): Array<Record<string, unknown>> =>
  server.logs.filter((l) => l.component === 'sftp' && l.msg === msg && (path === undefined || l.path === path));

before(async () => {
  if (skip) return;
  writeFileSync(sample, 'registration_reference;last_name\r\n1;Doe\r\n');
  key = makeKey('ed25519');
  dropKey = makeKey('ed25519');
  server = await new TestServer({ config: { engine: { watch: false }, sftp: { hostKeysDir: SHARED_HOST_KEYS } } }).start();
  const add = await server.cli('account', 'add', 'acme', '--key', key.publicPath);
  assert.equal(add.code, 0, add.stderr);
  const addDrop = await server.cli('account', 'add', 'drop', '--profile', 'dropbox', '--key', dropKey.publicPath);
  assert.equal(addDrop.code, 0, addDrop.stderr);
});

after(async () => { await server?.stop(); await server?.cleanup(); rmSync(local, { recursive: true, force: true }); });

test('exchange: direct upload and .filepart upload complete atomically, 0640, announced; sftp exits cleanly', { skip }, async () => {
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [
    `put ${sample} /dev/direct.csv`,
    `put ${sample} /dev/parted.csv.filepart`,
    'rename /dev/parted.csv.filepart /dev/parted.csv',
    `put ${sample} /in/sal/ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv`,
    'ls -l /dev',
    'bye',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.signal, null);
  for (const name of ['direct.csv', 'parted.csv']) {
    assert.equal(readFileSync(root('dev', name), 'utf8'), readFileSync(sample, 'utf8'));
    assert.equal(statSync(root('dev', name)).mode & 0o777, 0o640);
  }
  assert.ok(!existsSync(root('dev', 'parted.csv.filepart')));
  assert.deepEqual(readdirSync(root('dev')).filter((n) => n.startsWith('.fg-upload-')), []);
  assert.match(r.stdout, /-rw-r-----.* direct\.csv/);
  // dev/ is never processed: logged but not announced; in/ is announced to intake.
  assert.equal(auditLines('upload complete', '/dev/direct.csv')[0]?.announced, false);
  const inbound = await server.waitForLog((l) => l.msg === 'upload complete' && l.path === '/in/sal/ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv');
  assert.equal(inbound.announced, true);
  assert.equal(inbound.size, statSync(sample).size);
  const login = await server.waitForLog((l) => l.msg === 'login' && l.accountId === 'acme');
  assert.equal(login.fingerprint, key.fingerprint);
  assert.equal(login.address, '127.0.0.1');
  assert.ok(typeof login.kex === 'string' && typeof login.cipher === 'string' && typeof login.mac === 'string');
});

test('a large upload arrives byte for byte (gathered writes, several MiB, odd size), with OpenSSH and paramiko', { skip }, async () => {
  const big = join(local, 'big.bin');
  writeFileSync(big, randomBytes(9 * 1024 * 1024 + 12345));
  const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
  // A .filepart left by an interrupted transfer is resumed (OpenSSH reput), then completed.
  writeFileSync(root('dev', 'resumed.bin.filepart'), readFileSync(big).subarray(0, 3 * 1024 * 1024 + 7));
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [
    `put ${big} /dev/big-openssh.bin`,
    `reput ${big} /dev/resumed.bin.filepart`,
    'rename /dev/resumed.bin.filepart /dev/resumed.bin',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sha(root('dev', 'resumed.bin')), sha(big), 'resumed upload');
  const p = await python(`${PARAMIKO_CONNECT}
sftp.put(sys.argv[4], '/dev/big-paramiko.bin')
print(sftp.stat('/dev/big-paramiko.bin').st_size)
ssh.close()
`, [String(server.port), 'acme', key.privatePath, big]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(Number(p.stdout.trim()), statSync(big).size);
  for (const name of ['big-openssh.bin', 'big-paramiko.bin']) assert.equal(sha(root('dev', name)), sha(big), name);
});

test('exchange: out/ can be listed, read and deleted, not written', { skip }, async () => {
  writeFileSync(root('out', 'bil', 'invoice.txt'), 'invoice 42\n');
  const got = join(local, 'invoice.txt');
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [
    'ls /out/bil',
    `get /out/bil/invoice.txt ${got}`,
    `-put ${sample} /out/bil/mine.csv`,
    'rm /out/bil/invoice.txt',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /invoice\.txt/);
  assert.equal(readFileSync(got, 'utf8'), 'invoice 42\n');
  assert.ok(!existsSync(root('out', 'bil', 'invoice.txt')));
  assert.ok(!existsSync(root('out', 'bil', 'mine.csv')));
  assert.match(r.stderr, /Permission denied/);
});

test('exchange: a completed file in in/ cannot be read back, deleted, renamed, overwritten or renamed onto', { skip }, async () => {
  writeFileSync(root('in', 'sir', 'done.csv'), 'server owns this\n');
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [
    `-get /in/sir/done.csv ${join(local, 'x')}`,
    '-rm /in/sir/done.csv',
    '-rename /in/sir/done.csv /in/sir/other.csv',
    `-put ${sample} /in/sir/done.csv`,
    `put ${sample} /in/sir/done.csv.filepart`,
    '-rename /in/sir/done.csv.filepart /in/sir/done.csv',
    'rm /in/sir/done.csv.filepart',
    'ls /in/sir',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(root('in', 'sir', 'done.csv'), 'utf8'), 'server owns this\n');
  assert.ok(!existsSync(root('in', 'sir', 'other.csv')));
  assert.ok(!existsSync(root('in', 'sir', 'done.csv.filepart')), 'an unfinished .filepart may be deleted');
  assert.ok(!existsSync(join(local, 'x')));
  assert.equal((r.stderr.match(/Permission denied/g) ?? []).length, 5, r.stderr);
  const denied = server.logs.filter((l) => l.msg === 'denied' && String(l.path).startsWith('/in/sir/done.csv'));
  assert.deepEqual([...new Set(denied.map((l) => l.op))].sort(), ['open', 'remove', 'rename']);
  assert.ok(denied.some((l) => l.code === 'FG_FILE_EXISTS'));
});

test('exchange: no mkdir/rmdir, nothing at the root, no symlinks, no ownership change', { skip }, async () => {
  symlinkSync('/etc', root('dev', 'etc-link'));
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [
    '-mkdir /in/new',
    '-rmdir /dev',
    `-put ${sample} /top.csv`,
    '-ln -s /etc/passwd /dev/pw',
    `-get /dev/etc-link/passwd ${join(local, 'pw')}`,
    `put ${sample} /dev/own.csv`,
    '-chown 0 /dev/own.csv',
    'chmod 777 /dev/own.csv',
    'ls -l /dev',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(root('in', 'new')));
  assert.ok(existsSync(root('dev')));
  assert.ok(!existsSync(root('top.csv')));
  assert.ok(!existsSync(root('dev', 'pw')));
  assert.ok(!existsSync(join(local, 'pw')));
  assert.doesNotMatch(output(r.stdout), /etc-link/, 'symlinks are not listed');
  assert.match(output(r.stdout), /own\.csv/);
  // chmod (SETSTAT) is tolerated so clients do not fail, but the mode stays 0640.
  assert.equal(statSync(root('dev', 'own.csv')).mode & 0o777, 0o640);
  await server.waitForLog((l) => l.msg === 'denied' && l.op === 'setstat' && /ownership/.test(String(l.reason)), 5000);
  await server.waitForLog((l) => l.msg === 'denied' && l.op === 'symlink', 5000);
  await server.waitForLog((l) => l.msg === 'denied' && l.op === 'mkdir', 5000);
});

test('WinSCP/paramiko habits: FSETSTAT and SETSTAT after upload succeed, mode stays 0640; put+stat into in/ succeeds', { skip }, async () => {
  const name = 'ndmat_acme_acme_usr_hrmanager_v6_261120091000.csv';
  const r = await python(`${PARAMIKO_CONNECT}
import time
with sftp.open('/dev/winscp.csv', 'w') as f:
    f.write(b'a;b')
    f.chmod(0o666)
    f.utime((1, 1))
sftp.chmod('/dev/winscp.csv', 0o777)
sftp.utime('/dev/winscp.csv', None)
attrs = sftp.put(sys.argv[4], '/in/usr/${name}')
print('put size', attrs.st_size)
ssh.close()
`, [String(server.port), 'acme', key.privatePath, sample]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(root('dev', 'winscp.csv')).mode & 0o777, 0o640);
  assert.match(r.stdout, new RegExp(`put size ${statSync(sample).size}`));
  await server.waitForLog((l) => l.msg === 'upload complete' && l.path === `/in/usr/${name}`);
});

test('traversal: .., absolute paths, NUL, long names never leave the jail (paramiko)', { skip }, async () => {
  const r = await python(`${PARAMIKO_CONNECT}
import errno
results = []
for p in ['../../../../etc/passwd', '/../etc/passwd', '/in/../../etc/passwd', '/dev/a\\x00b', '/dev/' + 'x' * 300, '//etc/passwd', '/dev/.fg-upload-x']:
    try:
        sftp.stat(p)
        results.append('OPEN ' + p)
    except IOError as e:
        results.append('refused %s' % (e.errno,))
try:
    with sftp.open('/../escape.txt', 'w') as f:
        f.write('x')
    results.append('WROTE')
except IOError as e:
    results.append('refused %s' % (e.errno,))
print('\\n'.join(results))
print('realpath', sftp.normalize('/in/sal/../../out/./tra'))
ssh.close()
`, [String(server.port), 'acme', key.privatePath]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('refused')).length, 8, r.stdout);
  assert.ok(!lines.some((l) => l.startsWith('OPEN') || l === 'WROTE'));
  assert.match(r.stdout, /realpath \/out\/tra/);
  assert.ok(!existsSync(join(server.dataDir, 'sftp', 'escape.txt')));
  await server.waitForLog((l) => l.code === 'FG_PATH_ESCAPE', 5000);
  await server.waitForLog((l) => l.code === 'FG_PATH_INVALID' && /NUL/.test(String(l.reason)), 5000);
});

test('unknown (extended) requests get OP_UNSUPPORTED and the session stays usable', { skip }, async () => {
  const r = await python(`${PARAMIKO_CONNECT}
from paramiko.sftp import CMD_EXTENDED
try:
    sftp._request(CMD_EXTENDED, 'posix-rename@openssh.com', '/dev/a', '/dev/b')
    print('accepted')
except IOError as e:
    print('refused', e)
print('listing', sorted(sftp.listdir('/')))
ssh.close()
`, [String(server.port), 'acme', key.privatePath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /refused .*(unsupported|not supported)/i);
  assert.match(r.stdout, /listing \['dev', 'in', 'out'\]/);
});

test('an upload killed half way never appears under its final name', { skip }, async () => {
  const r = await python(`${PARAMIKO_CONNECT}
import os
f = sftp.open('/dev/big.bin', 'w')
for i in range(8):
    f.write(b'x' * 65536)
print('written', flush=True)
os._exit(3)
`, [String(server.port), 'acme', key.privatePath]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /written/);
  const interrupted = await server.waitForLog((l) => l.msg === 'upload interrupted' && l.path === '/dev/big.bin');
  assert.ok(Number(interrupted.bytes) > 0);
  assert.ok(!existsSync(root('dev', 'big.bin')));
  assert.deepEqual(readdirSync(root('dev')).filter((n) => n.startsWith('.fg-upload-')), []);
  assert.equal(auditLines('upload complete', '/dev/big.bin').length, 0);
});

test('dropbox: PUT to / only; listing shows nothing; read, delete, mkdir refused', { skip }, async () => {
  const dropRoot = join(server.dataDir, 'sftp', 'drop');
  assert.deepEqual(readdirSync(dropRoot), [], 'a dropbox is just its root');
  const r = await sftpBatch(server.port, 'drop', dropKey.privatePath, [
    `put ${sample} /employees.csv`,
    `put ${sample} /second.csv.filepart`,
    'rename /second.csv.filepart /second.csv',
    'ls -la /',
    `-get /employees.csv ${join(local, 'emp')}`,
    '-rm /employees.csv',
    '-mkdir /sub',
    `-put ${sample} /sub/x.csv`,
    '-rename /employees.csv /renamed.csv',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(output(r.stdout).trim(), '', 'a drop-box listing shows nothing');
  assert.ok(!existsSync(join(local, 'emp')));
  // get (the session remembers its own upload even if intake already took it), rm, mkdir, put, rename.
  assert.equal((r.stderr.match(/Permission denied/g) ?? []).length, 5, r.stderr);
  for (const op of ['open', 'remove', 'mkdir', 'rename']) {
    // Logs are written asynchronously: the last line may arrive after the client has exited.
    const denied = await server.waitForLog((l) => l.msg === 'denied' && l.accountId === 'drop' && l.op === op, 5000);
    assert.equal(denied.op, op);
  }
  for (const name of ['/employees.csv', '/second.csv']) {
    const done = await server.waitForLog((l) => l.msg === 'upload complete' && l.path === name && l.accountId === 'drop');
    assert.equal(done.announced, true);
  }
});

test('OpenSSH sftp is offered limits@openssh.com and moves 255 KiB per request; large files arrive intact, WRITEs framed without copy', { skip }, async () => {
  const big = join(local, 'big.bin');
  const content = randomBytes(3 * 1024 * 1024 + 12345);
  writeFileSync(big, content);
  const back = join(local, 'big-back.bin');
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${big} /dev/big.bin`, `get /dev/big.bin ${back}`, 'bye'], ['-vvv', '-o', 'LogLevel=DEBUG3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /limits@openssh\.com/);
  assert.match(r.stderr, /server upload\/download buffer sizes 261120 \/ 261120/);
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(root('dev', 'big.bin'))), sha(content));
  assert.equal(sha(readFileSync(back)), sha(content));
  // WRITE data is taken from ssh2 without its reassembly copy (write-framing.ts); false would
  // mean ssh2's internals changed and uploads fell back to the slower path.
  const started = await server.waitForLog((l) => l.msg === 'sftp session started' && l.accountId === 'acme');
  assert.equal(started.writeFraming, true);
});

test('appending to a .filepart (APPEND flag, pipelined writes) keeps the data in order', { skip }, async () => {
  const head = randomBytes(1000);
  const tail = randomBytes(24 * 1024 * 1024 + 77);
  writeFileSync(root('dev', 'appended.bin.filepart'), head);
  const tailFile = join(local, 'tail.bin');
  writeFileSync(tailFile, tail);
  // Writes of one 512 KiB run each, pipelined: on an O_APPEND file their order is the arrival order.
  const p = await python(`${PARAMIKO_CONNECT}
with open(sys.argv[4], 'rb') as src, sftp.open('/dev/appended.bin.filepart', 'ab') as f:
    f.set_pipelined(True)
    while True:
        block = src.read(32768)
        if not block:
            break
        f.write(block)
ssh.close()
`, [String(server.port), 'acme', key.privatePath, tailFile]);
  assert.equal(p.code, 0, p.stderr);
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(root('dev', 'appended.bin.filepart'))), sha(Buffer.concat([head, tail])));
});

test('small pipelined writes (4 KiB, more than sftp.maxInflightWrites at once) do not stall the upload', { skip }, async () => {
  const content = randomBytes(2 * 1024 * 1024 + 333);
  const file = join(local, 'small-writes.bin');
  writeFileSync(file, content);
  // 64 x 4 KiB is far below a 512 KiB run: the writes must still reach the disk when the socket is paused.
  const p = await python(`${PARAMIKO_CONNECT}
data = open(sys.argv[4], 'rb').read()
with sftp.open('/dev/small-writes.bin', 'wb') as f:
    f.set_pipelined(True)
    for i in range(0, len(data), 4096):
        f.write(data[i:i + 4096])
ssh.close()
`, [String(server.port), 'acme', key.privatePath, file]);
  assert.equal(p.code, 0, p.stderr);
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(root('dev', 'small-writes.bin'))), sha(content));
});
