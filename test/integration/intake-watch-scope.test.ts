import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { until } from '../helpers/wait';

/** Inodes the process watches with inotify (Linux: /proc/<pid>/fdinfo of its inotify descriptors). */
function watchedInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    if (!target.includes('inotify')) continue;
    for (const m of readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) inodes.add(parseInt(m[1], 16));
  }
  return inodes;
}


// The data directory holds the SQLite database: a watch on it fires at every commit.
test('watching every account (engine.watch: true), a server started before any account exists watches the SFTP tree, never its data directory', { skip: existsSync('/proc/self/fdinfo') ? false : 'needs Linux /proc' }, async () => {
  const server = new TestServer({ config: { engine: { watch: true } } });
  await server.start();
  try {
    const pid = server.pid!;
    const sftpRoot = join(server.dataDir, 'sftp');
    const dataDir = statSync(server.dataDir).ino;
    // The watch on sftp/ is set up asynchronously: wait for it, or for one on the data directory.
    const sftpWatched = () => existsSync(sftpRoot) && watchedInodes(pid).has(statSync(sftpRoot).ino);
    await until('the SFTP root or the data directory is watched', () => sftpWatched() || watchedInodes(pid).has(dataDir), 15_000, 50);
    assert.equal(watchedInodes(pid).has(dataDir), false, 'the data directory is watched');
    assert.ok(sftpWatched(), 'the SFTP root is not watched');

    const add = await server.cli('account', 'add', 'acme', '--key', makeKey().publicPath);
    assert.equal(add.code, 0, add.stderr);
    const inbox = join(sftpRoot, 'acme', 'in');
    await until('the new account\'s in/ is watched', () => watchedInodes(pid).has(statSync(inbox).ino), 15_000, 50);
    assert.equal(watchedInodes(pid).has(dataDir), false, 'the data directory is watched');
  } finally {
    await server.cleanup();
  }
});
