import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { sftpBatch } from '../helpers/clients';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

// An install made read-only after `npm install` (a container image, systemd ProtectSystem=strict,
// a root-owned global install) starts and serves, and runs only the built JavaScript.
// The install: a copy of the repository's files with its node_modules linked in (the packages
// `npm install` fetched), then the build `npm install` runs (its `prepare` script); then it is
// bind-mounted read-only (root ignores chmod, not a read-only mount).
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'var', '.tmp']);

function installCopy({ build = true } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-install-'));
  cpSync(REPO_ROOT, dir, { recursive: true, filter: (src) => src === REPO_ROOT || !(NOT_COPIED.has(basename(src)) || basename(src).startsWith('.dist')) });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (!build) return dir;
  const npm = spawnSync('npm', ['run', 'prepare'], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
  });
  assert.equal(npm.status, 0, `npm run prepare: ${npm.stdout}${npm.stderr}`);
  return dir;
}
const notRoot = process.getuid?.() !== 0 ? 'needs root (mount --bind)' : false;
if (notRoot && process.env.CI === 'true') throw new Error(`CI=true and this test cannot run: ${notRoot}`);
const skip = notRoot || skipUnless('sftp', 'ssh-keygen');

function mount(...args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `mount ${args.join(' ')}: ${r.stderr}`);
}

test('a read-only install serves an SFTP upload to its report, loading no TypeScript', { skip }, async () => {
  const install = mkdtempSync(join(tmpdir(), 'fg-ro-install-'));
  mount('--bind', installCopy(), install);
  try {
    mount('-o', 'remount,ro,bind', install);
    assert.throws(() => writeFileSync(join(install, 'probe'), ''), /EROFS/);

    const loads = join(mkdtempSync(join(tmpdir(), 'fg-ro-loads-')), 'loads.txt');
    const server = new TestServer({
      bin: join(install, 'bin', 'fluxgate.js'),
      nodeArgs: ['--require', join(__dirname, '..', 'fixtures', 'record-loads.cjs')],
      env: { FG_RECORD_LOADS: loads },
    });
    assert.ok(!server.dataDir.startsWith(REPO_ROOT));
    const key = await createAccount(server, 'acme');
    const probe = new JournalProbe(server);
    try {
      await server.start();
      const name = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
      const local = join(mkdtempSync(join(tmpdir(), 'fg-ro-up-')), name);
      copyFileSync(join(REPO_ROOT, 'test', 'fixtures', 'exchange', name), local);
      const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/sir/`]);
      assert.equal(put.code, 0, put.stderr);
      const file = await probe.finished(name, 30_000);
      assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
      assert.ok(file.reportPath && existsSync(file.reportPath), file.reportPath ?? 'no report');
      assert.ok(!file.reportPath.startsWith(install));
      // Nothing but serve's announcement of the console and API: no warning (a stale dist/, tsx…).
      assert.equal(server.stderr.replace(/^fluxgate: console on .*\n( {2}no operator yet: .*\n)?/m, ''), '');
    } finally {
      await server.cleanup();
    }

    const loaded = readFileSync(loads, 'utf8').trim().split('\n');
    assert.ok(loaded.includes(`file://${install}/dist/core/cli/main.js`), 'the server ran the install\'s dist/');
    assert.deepEqual(loaded.filter((url) => /\.[cm]?ts$/.test(url)), [], 'TypeScript loaded at run time');
    assert.deepEqual(loaded.filter((url) => /\/node_modules\/(tsx|esbuild|typescript)\//.test(url)), [], 'a compiler loaded at run time');
  } finally {
    const r = spawnSync('umount', [install], { encoding: 'utf8' });
    assert.equal(r.status, 0, `umount ${install}: ${r.stderr}`);
    rmdirSync(install);
  }
});

test('an install that was never built says what to run, and runs nothing else', () => {
  const dir = installCopy({ build: false });
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'fluxgate.js'), 'account', 'list'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^fluxgate: the server is not built \(dist\/ is missing\): run `npm run build` .*\[FG_NOT_BUILT\]\n$/);
  assert.ok(!existsSync(join(dir, 'dist')));
});
