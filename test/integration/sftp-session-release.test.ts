import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARAMIKO_CONNECT, sftpBatch } from '../helpers/clients';
import { parseJson } from '../helpers/json';
import { makeKey, type TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { PYTHON, skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// Connections that end leave nothing of themselves in the server's heap: counted in V8 heap
// snapshots of the real server (taken with --heapsnapshot-signal), after completed uploads,
// uploads cut off by a killed client, and refused logins. The server's RSS at rest stays above
// its idle figure after uploads for another reason (memory glibc keeps, docs/sftp.md "Memory at
// rest"); this guards the part that would be a leak.
const skip = skipUnless('sftp', 'ssh-keygen', 'paramiko');

/** One object per connection or SFTP session while it lives (ssh2's classes, then fluxgate's). */
const PER_SESSION = ['Client', 'Session', 'SFTP', 'Protocol', 'HandleTable', 'WriteBuffer', 'WriteGate', 'RecheckedJail'];

/** The parts of a V8 heap snapshot (.heapsnapshot, JSON) read here. */
interface HeapSnapshot { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] }

/** Live objects per constructor name in a heap snapshot of the server (the snapshot collects garbage first). */
async function liveObjects(server: TestServer, names: string[]): Promise<Record<string, number>> {
  const existing = new Set(readdirSync(server.dir));
  process.kill(server.pid!, 'SIGUSR2');
  let file: string | undefined;
  let snapshot: HeapSnapshot | undefined;
  const deadline = Date.now() + 60_000;
  while (!snapshot) {
    file ??= readdirSync(server.dir).find((f) => f.endsWith('.heapsnapshot') && !existing.has(f));
    // Written by the server's main thread; complete once it parses.
    if (file) try { snapshot = parseJson<HeapSnapshot>(readFileSync(join(server.dir, file), 'utf8')); } catch { /* still being written */ }
    if (!snapshot && Date.now() > deadline) assert.fail('the server wrote no heap snapshot');
    if (!snapshot) await new Promise((r) => setTimeout(r, 200));
  }
  rmSync(join(server.dir, file!));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    if (types[snapshot.nodes[i + typeAt]] !== 'object') continue;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]];
    if (name in counts) counts[name]++;
  }
  return counts;
}

describe('connections that end release their session objects', { skip }, () => {
  let server: TestServer;
  let key: TestKey;
  let local: string;
  before(async () => {
    if (skip) return;
    server = await new TestServer({ config: { engine: { watch: false } }, nodeArgs: ['--heapsnapshot-signal=SIGUSR2'] }).start();
    key = makeKey('ed25519');
    assert.equal((await server.cli('account', 'add', 'rel', '--key', key.publicPath)).code, 0);
    local = join(server.dir, 'local');
    rmSync(local, { recursive: true, force: true });
    mkdirSync(local);
    writeFileSync(join(local, 'small.bin'), Buffer.alloc(300 * 1024, 7));
    writeFileSync(join(local, 'large.bin'), Buffer.alloc(8 * 1024 * 1024, 9));
  });
  after(async () => { await server?.stop(); await server?.cleanup(); });

  test('no ssh2 connection, session or SFTP object, nor any handle table or write buffer, outlives its connection', async () => {
    const closed = (): number => server.logs.filter((l) => l.msg === 'connection closed').length;

    // Control: while a session holds an upload open, each counted class is found (the names are right).
    const held = spawn(PYTHON, ['-c', `${PARAMIKO_CONNECT}
f = sftp.open('/dev/held.bin', 'w')
f.write(b'x' * 100000)
f.flush()
print('ready', flush=True)
sys.stdin.read()
f.close()
sftp.close()
ssh.close()
`, String(server.port), 'rel', key.privatePath], { stdio: ['pipe', 'pipe', 'inherit'] });
    const [ready] = await once(held.stdout, 'data') as [Buffer];
    assert.equal(ready.toString().trim(), 'ready');
    const open = await liveObjects(server, PER_SESSION);
    for (const name of PER_SESSION) assert.ok(open[name] >= 1, `a live session holds a ${name} (found ${open[name]}): ${JSON.stringify(open)}`);
    held.stdin.end();
    await once(held, 'exit');

    // Completed uploads, three connections at a time.
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all([0, 1, 2].map((i) => sftpBatch(server.port, 'rel', key.privatePath,
        [`put ${join(local, 'small.bin')} /dev/r${round}-${i}.bin`, 'ls /dev', `rm /dev/r${round}-${i}.bin`])));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
    }
    // Uploads cut off: the client is killed while it writes (the session abandons the upload).
    for (const name of ['cut-1.bin', 'cut-2.bin']) {
      const child = spawn('sftp', ['-b', '-', '-l', '2000', '-i', key.privatePath, '-P', String(server.port),
        '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes',
        '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', 'rel@127.0.0.1'], { stdio: ['pipe', 'ignore', 'ignore'] });
      child.stdin.end(`put ${join(local, 'large.bin')} /dev/${name}\n`);
      await server.waitForLog((l) => l.msg === 'open' && l.path === `/dev/${name}`);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await server.waitForLog((l) => l.msg === 'upload interrupted' && l.path === `/dev/${name}`);
    }
    // Refused logins (a key the account does not have).
    const stranger = makeKey('ed25519');
    for (let i = 0; i < 2; i++) assert.notEqual((await sftpBatch(server.port, 'rel', stranger.privatePath, ['ls /'])).code, 0);

    // 1 held + 6 completed + 2 cut off + 2 refused.
    await until('every connection has closed', () => closed() >= 11, 15_000);
    const ended = await liveObjects(server, [...PER_SESSION, 'Startup', 'PKAuthContext']);
    assert.deepEqual(ended, Object.fromEntries([...PER_SESSION, 'Startup', 'PKAuthContext'].map((n) => [n, 0])));
  });
});
