import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { inotifyWatches } from '../helpers/proc';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';
import { JournalProbe } from '../e2e/engine-support';
import { accountServiceFor } from '../helpers/accounts';

/**
 * Intake whose cost does not grow with idle accounts (#19 item 1): no watcher by default, a
 * rotating scan finds files dropped by other means within engine.scanIntervalSeconds, SFTP
 * uploads are announced, and whoever sees a file first, it is journaled once.
 */

const LINUX = existsSync('/proc/self/fdinfo') ? false : 'needs Linux /proc';
const servers: TestServer[] = [];
after(async () => { for (const s of servers) await s.cleanup(); });

/** The echo workflow only, so that files of in/echo are processed quickly. */
function echoWorkflows(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-wf-'));
  cpSync(join(REPO_ROOT, 'workflows', 'echo.yaml'), join(dir, 'echo.yaml'));
  return dir;
}

/** `count` exchange accounts (a0, a1…) with one shared key and their default tree, made before the server starts. */
async function serverWithAccounts(count: number, engine: Record<string, unknown>): Promise<{ server: TestServer; key: TestKey }> {
  const server = new TestServer({ config: { workflowsDir: echoWorkflows(), pgp: { signReports: false }, engine } });
  servers.push(server);
  const key = makeKey();
  const paths = new DataPaths(server.dataDir);
  mkdirSync(paths.root, { recursive: true });
  const service = accountServiceFor((await server.store()).store, paths, loadConfig({ configFile: server.configFile }).config);
  for (let i = 0; i < count; i++) {
    await service.create({ id: `a${i}`, partner: `a${i}`, publicKey: key.publicKey });
    mkdirSync(join(paths.accountRoot(`a${i}`), 'in', 'echo'));
  }
  return { server, key };
}


const startupScanDone = (l: Record<string, unknown>) => l.msg === 'intake: start-up scan of every account tree done';

describe('intake without watchers: the tree scan', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  test('inotify watches do not grow with the number of accounts (200 accounts hold as many as 2)', { skip: LINUX }, async () => {
    const counts: number[] = [];
    for (const accounts of [2, 200]) {
      const { server } = await serverWithAccounts(accounts, {});
      await server.start();
      await server.waitForLog(startupScanDone, 30_000);
      counts.push(inotifyWatches(server.pid!).length);
      await server.cleanup();
    }
    assert.equal(counts[1], counts[0], `2 accounts: ${counts[0]} watches, 200 accounts: ${counts[1]}`);
  });

  test('engine.watch lists the accounts chokidar watches: only their trees hold watches', { skip: LINUX }, async () => {
    const { server } = await serverWithAccounts(3, { watch: ['a1'] });
    await server.start();
    const watched = () => new Set(inotifyWatches(server.pid!));
    const inode = (account: string) => statSync(join(server.dataDir, 'sftp', account, 'in')).ino;
    await until('a1\'s in/ is watched', () => watched().has(inode('a1')), 15_000, 50);
    assert.equal(watched().has(inode('a0')), false, 'a0 is watched');
    assert.equal(watched().has(inode('a2')), false, 'a2 is watched');
    await server.cleanup();
  });

  test('a file copied by cp into an idle account\'s in/ (no SFTP, no watcher) is found within the scan interval and processed', async () => {
    const { server } = await serverWithAccounts(20, { scanIntervalSeconds: 2 });
    await server.start();
    const probe = new JournalProbe(server);
    await server.waitForLog(startupScanDone, 30_000);
    // Long enough for every tree to be read and found idle (directory mtimes older than 2 s):
    // the drops below are found by a changed mtime, not by a tree read anyway.
    await new Promise((r) => setTimeout(r, 4000));
    const source = join(server.dir, 'ndmat_a7_a7_echo_261120110000.csv');
    writeFileSync(source, 'one\ntwo\n');
    const copied = Date.now();
    execFileSync('cp', [source, join(server.dataDir, 'sftp', 'a7', 'in', 'echo')]);
    // A new directory made by another program, with a file in it, is found as well.
    mkdirSync(join(server.dataDir, 'sftp', 'a13', 'in', 'zzz'));
    execFileSync('cp', [source, join(server.dataDir, 'sftp', 'a13', 'in', 'zzz', 'stray.csv')]);

    const f = await probe.finished('ndmat_a7_a7_echo_261120110000.csv', 30_000);
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.counts?.created, 2);
    // The interval (2 s), plus the second a file must stay unchanged, plus slack for a loaded machine.
    const receivedAfter = (await probe.events(f.id)).find((e) => e.type === 'received')!.at - copied;
    assert.ok(receivedAfter < 2000 + 1000 + 4000, `found ${receivedAfter} ms after the copy`);
    await server.waitForLog((l) => l.msg === 'file received' && l.fileId === f.id && l.via === 'scan', 5000);
    const stray = await probe.finished('stray.csv', 30_000, 'a13');
    assert.equal(stray.outcome?.code, 'FG_NO_WORKFLOW');
  });

  test('accounts added by the thousand while the server runs are scanned within the interval, not at the pace set for the few it had', async () => {
    const { server, key } = await serverWithAccounts(1, { scanIntervalSeconds: 2 });
    await server.start();
    const probe = new JournalProbe(server);
    await server.waitForLog(startupScanDone, 30_000);
    // Counted at start: one account, so one account a slice every 2 s. Then 60 more arrive.
    const paths = new DataPaths(server.dataDir);
    const service = accountServiceFor((await server.store()).store, paths, loadConfig({ configFile: server.configFile }).config);
    for (let i = 1; i <= 60; i++) {
      await service.create({ id: `b${i}`, partner: `b${i}`, publicKey: key.publicKey });
      mkdirSync(join(paths.accountRoot(`b${i}`), 'in', 'echo'));
    }
    const source = join(server.dir, 'ndmat_b9_b9_echo_261120120000.csv');
    writeFileSync(source, 'one\n');
    const copied = Date.now();
    execFileSync('cp', [source, join(paths.accountRoot('b9'), 'in', 'echo')]);
    const f = await probe.finished('ndmat_b9_b9_echo_261120120000.csv', 60_000);
    // At the pace of one account every 2 s, b9 (the last in id order: a0, b1, b10…b19, b2…)
    // would wait ~2 min; counted again once the pass outlasts the interval, a few seconds.
    const receivedAfter = (await probe.events(f.id)).find((e) => e.type === 'received')!.at - copied;
    assert.ok(receivedAfter < 2000 * 2 + 1000 + 5000, `found ${receivedAfter} ms after the copy`);
  });

  test('an SFTP upload is processed without any watcher, announced by the SFTP server', async () => {
    // A scan period of an hour: only the start-up pass and the announcement remain.
    const { server, key } = await serverWithAccounts(2, { scanIntervalSeconds: 3600 });
    await server.start();
    const probe = new JournalProbe(server);
    await server.waitForLog(startupScanDone, 30_000);
    const name = 'ndmat_a1_a1_echo_261120120000.csv';
    writeFileSync(join(server.dir, name), 'x\n');
    const put = await sftpBatch(server.port, 'a1', key.privatePath, [`put ${join(server.dir, name)} in/echo/${name}`]);
    assert.equal(put.code, 0, put.stderr);
    const f = await probe.finished(name, 20_000);
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    await server.waitForLog((l) => l.msg === 'file received' && l.fileId === f.id && l.via === 'sftp', 5000);
    const treeInodes = new Set<number>();
    const collect = (dir: string): void => {
      treeInodes.add(statSync(dir).ino);
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) collect(join(dir, e.name));
    };
    collect(join(server.dataDir, 'sftp'));
    assert.deepEqual(inotifyWatches(server.pid!).filter((ino) => treeInodes.has(ino)), [], 'directories of the SFTP tree are watched');
  });

  test('files seen by the SFTP announcement, the watcher and the scan at once are journaled once each', async () => {
    // The scan reads busy trees at every look (every account each second here), the watcher watches a0.
    const { server, key } = await serverWithAccounts(2, { scanIntervalSeconds: 1, watch: ['a0'] });
    await server.start();
    const probe = new JournalProbe(server);
    await server.waitForLog(startupScanDone, 30_000);
    const names: string[] = [];
    const puts: string[] = [];
    for (let i = 0; i < 15; i++) {
      const name = `ndmat_a0_a0_echo_2611201300${String(i).padStart(2, '0')}.csv`;
      writeFileSync(join(server.dir, name), `#sleep 100\nrow-${i}\n`);
      puts.push(`put ${join(server.dir, name)} in/echo/${name}`);
      names.push(name);
    }
    const put = await sftpBatch(server.port, 'a0', key.privatePath, puts);
    assert.equal(put.code, 0, put.stderr);
    // And files dropped by cp into the watched account and the unwatched one.
    for (const account of ['a0', 'a1']) {
      const name = `ndmat_${account}_${account}_echo_261120140000.csv`;
      writeFileSync(join(server.dir, name), 'dropped\n');
      execFileSync('cp', [join(server.dir, name), join(server.dataDir, 'sftp', account, 'in', 'echo')]);
      names.push(name);
    }
    for (const name of names) {
      const f = await probe.finished(name, 60_000);
      assert.equal(f.state, 'processed', `${name}: ${JSON.stringify(f.outcome)}`);
    }
    // Files sat in in/echo while queued behind each other: the scan saw them there, and passed.
    await new Promise((r) => setTimeout(r, 2500));
    for (const name of names) {
      const rows = (await probe.byName(name));
      assert.equal(rows.length, 1, `${name}: ${rows.length} journal entries`);
      assert.equal((await probe.events(rows[0].id)).filter((e) => e.type === 'received').length, 1, name);
    }
  });
});
