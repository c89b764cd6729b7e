import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempUploadName } from '../../core/upload-names';
import { TestServer } from '../helpers/server';
import { PARAMIKO_CONNECT, python } from '../helpers/clients';
import { makeKey } from '../helpers/keys';
import { PYTHON, skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// Issue #17, item 15 (uploads): the hidden temporary file of a direct upload cut off by a crash
// of the server is deleted at the next start (core/temporary-sweep.ts), when its writer (a pid
// of this host, written in its name) is gone, or its name names no writer (only a server makes
// them, and the data-directory lock says none other runs); temporary files never show in a
// client's listing.
const skip = skipUnless('ssh-keygen', 'paramiko');
const CONFIG = { engine: { watch: false } };
let first: TestServer | undefined;
let second: TestServer | undefined;
after(async () => {
  await second?.stop();
  await first?.cleanup();
});

test('a killed server\'s upload temporaries are removed at the next start; a live writer\'s and another host\'s are kept, and none is listed', { skip }, async () => {
  const key = makeKey('ed25519');
  const server = first = await new TestServer({ config: CONFIG }).start();
  assert.equal((await server.cli('account', 'add', 'acme', '--key', key.publicPath)).code, 0);
  const dev = join(server.dataDir, 'sftp', 'acme', 'dev');
  const temporaries = (): string[] => readdirSync(dev).filter((n) => n.startsWith('.fg-upload-')).sort();

  // An upload in progress (written, acknowledged, not closed) when the server is killed.
  const client = spawn(PYTHON, ['-c', `${PARAMIKO_CONNECT}
up = sftp.open('/dev/cut-off.bin', 'wb')
up.write(b'x' * 1000000)
up.flush()
print('written', flush=True)
sys.stdin.readline()
`, String(server.port), 'acme', key.privatePath]);
  let out = '';
  client.stdout.on('data', (d) => { out += d; });
  client.stderr.on('data', (d) => { out += d; });
  try {
    await until('the upload is written', () => out.includes('written') || client.exitCode !== null, 20_000);
    assert.match(out, /written/);
    const serverPid = server.pid!;
    await server.kill();
    const [cutOff] = temporaries();
    assert.match(cutOff ?? '', new RegExp(`^\\.fg-upload-${serverPid}\\.[0-9a-f]{8}\\.[0-9a-f]+-cut-off\\.bin$`), 'the killed upload left its temporary file');
  } finally {
    client.kill();
  }
  // Two that must stay: a writer still running on this host (this test process), one of another
  // host (shared storage); one that goes: a name from before the writer was written in it.
  const alive = tempUploadName('alive.bin', 'aaaaaaaaaaaa');
  const otherHost = tempUploadName('other-host.bin', 'bbbbbbbbbbbb', { pid: 1, host: '00000000' });
  const oldName = '.fg-upload-cccccccccccc-old.bin';
  for (const name of [alive, otherHost, oldName]) writeFileSync(join(dev, name), 'partial');

  const restarted = second = await new TestServer({ dir: server.dir, config: CONFIG }).start();
  // Swept in the background once the server listens.
  const swept = await restarted.waitForLog((l) => l.msg === 'removed temporary files left by a stopped or killed process');
  assert.deepEqual(temporaries(), [alive, otherHost].sort());
  const removed = (swept.paths as string[]).map((p) => p.slice(dev.length + 1)).sort();
  assert.equal(removed.length, 2, `removed: ${removed.join(', ')}`);
  assert.match(removed.join(' '), /-cut-off\.bin/);
  assert.ok(removed.includes(oldName), `removed: ${removed.join(', ')}`);

  const list = await python(`${PARAMIKO_CONNECT}
print(sorted(sftp.listdir('/dev')))
`, [String(restarted.port), 'acme', key.privatePath]);
  assert.equal(list.stdout.trim(), '[]', `no temporary file is ever listed: ${list.stdout}${list.stderr}`);
});
