import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inodeOf } from '../../core/retention/file-hash';
import type { JournalRepository } from '../../core/store/ports/journal';
import type { TombstoneRepository } from '../../core/store/ports/jobs';
import { openTestStore, TEST_STORE } from '../helpers/test-store';
import { DAY, isoAt, JobsFixture, runJob } from './jobs-support';

const inode = (p: string): string => inodeOf(lstatSync(p));

describe('job runs: crash recovery, locks, failures', () => {
  let fx: JobsFixture;
  let journal: JournalRepository;
  let tombstones: TombstoneRepository;
  const T = Date.now();

  before(async () => {
    fx = new JobsFixture();
    ({ journal, tombstones } = (await fx.store()).store);
    await (await fx.accountService()).create({ id: 'acme', now: T });
  });
  after(async () => { await fx.cleanup(); });

  test('a run interrupted between tombstone and unlink is completed by the next run, with no second tombstone', async () => {
    // State a crash leaves: intent written (pending), then the process died before or after the unlink.
    const notYetDeleted = fx.write(join(fx.paths.archive('acme', 'sal'), 'a.csv'), 'aaa');
    const row = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/a.csv',
      name: 'a.csv', size: 3, sha1: 'x', sha256: createHash('sha256').update('aaa').digest('hex'), location: notYetDeleted, receivedAt: T }))!;
    await journal.update(row.id, { state: 'processed', processedAt: T });
    await tombstones.intend({ fileId: row.id, accountId: 'acme', path: notYetDeleted, name: 'a.csv', size: 3, sha256: row.sha256,
      rule: 'archive', deletedAt: T, asOf: T + 46 * DAY, inode: inode(notYetDeleted), detail: {} });

    const alreadyUnlinked = fx.write(join(fx.paths.quarantine('acme', 'sal'), 'b.csv'), 'bbb');
    const ino = inode(alreadyUnlinked);
    rmSync(alreadyUnlinked);
    await tombstones.intend({ fileId: null, accountId: 'acme', path: alreadyUnlinked, name: 'b.csv', size: 3, sha256: null,
      rule: 'quarantine', deletedAt: T, asOf: T + 91 * DAY, inode: ino, detail: {} });

    // A newer file has since been written where a pending deletion pointed: it must survive.
    const replaced = fx.inTree('acme', 'in/sal/c.csv.filepart', 'old');
    const oldIno = inode(replaced);
    rmSync(replaced);
    await tombstones.intend({ fileId: null, accountId: 'acme', path: replaced, name: 'c.csv.filepart', size: 3, sha256: null,
      rule: 'partial-upload', deletedAt: T, asOf: T + 8 * DAY, inode: oldIno, detail: {} });
    fx.write(replaced, 'a brand new upload');

    const dry = await runJob(fx.srv, 'retention', '--dry-run', '--at', isoAt(T + 1 * DAY));
    assert.equal(dry.counts['complete-deletion'], 3);
    assert.equal((await fx.tombstones()).filter((t) => t.state === 'pending').length, 3, 'a dry run completes nothing');
    assert.ok(existsSync(notYetDeleted));

    const run = await runJob(fx.srv, 'retention', '--at', isoAt(T + 1 * DAY));
    assert.equal(run.outcome, 'ok', JSON.stringify(run.errors));
    assert.equal(run.counts.reconciled, 3);
    assert.equal(existsSync(notYetDeleted), false);
    assert.equal(existsSync(replaced), true, 'the newer file at that path is kept');
    const all = (await fx.tombstones());
    assert.equal(all.length, 3);
    assert.ok(all.every((t) => t.state === 'done'));
    assert.equal((await journal.get(row.id))!.state, 'deleted');
    // Running again (even much later) finds nothing left to do for those files.
    const again = await runJob(fx.srv, 'retention', '--at', isoAt(T + 50 * DAY));
    assert.equal(again.counts.reconciled ?? 0, 0);
    assert.equal((await fx.tombstones()).filter((t) => t.path === notYetDeleted).length, 1);
  });

  test('a job held by a live process is refused; a dry run is still allowed', async () => {
    // This process begins a run, as another node or CLI would: it holds the job's lock (SQLite:
    // cron_locks with its live pid; PostgreSQL: an advisory lock on a connection of its own).
    const { cronRuns } = (await fx.store()).store;
    const held = await cronRuns.begin('key-expiry', T);
    const refused = await fx.srv.cli('jobs', 'run', 'key-expiry');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already running .*\[FG_JOB_RUNNING\]/);
    const dry = await runJob(fx.srv, 'key-expiry', '--dry-run');
    assert.equal(dry.outcome, 'ok');
    await cronRuns.finish(held.id, 'ok', {});
    assert.equal((await runJob(fx.srv, 'key-expiry')).outcome, 'ok', 'the lock is released with the run');
  });

  // A holder that died mid-run, as each engine learns it: SQLite by its pid in cron_locks (dead
  // here), PostgreSQL by the lock's connection ending with its process (a store of its own, closed).
  test('a lock left by a dead process is taken over and its run recorded as interrupted', async () => {
    let runId: number;
    if (TEST_STORE === 'sqlite') {
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      runId = Number(fx.db.prepare(`INSERT INTO cron_runs (job, started_at, outcome, as_of) VALUES ('account-inactivity', ?, 'running', ?)`).run(T, T).lastInsertRowid);
      fx.db.prepare('INSERT INTO cron_locks (job, run_id, pid, host, acquired_at) VALUES (?, ?, ?, ?, ?)').run('account-inactivity', runId, dead, hostname(), T);
    } else {
      const other = await openTestStore(fx.srv.dataDir);
      runId = (await other.store.cronRuns.begin('account-inactivity', T)).id;
      await other.close();
    }
    const run = await runJob(fx.srv, 'account-inactivity');
    assert.equal(run.outcome, 'ok');
    const was = (await (await fx.store()).store.cronRuns.get(runId))!;
    assert.equal(was.outcome, 'interrupted');
    assert.notEqual(was.endedAt, null);
    if (TEST_STORE === 'sqlite') assert.equal((fx.db.prepare('SELECT count(*) AS n FROM cron_locks').get() as { n: number }).n, 0);
  });

  test('an item that cannot be deleted fails the run, keeps no tombstone, and the rest is done', async () => {
    // A journal location that is a directory: unlink fails (even as root).
    const stuck = join(fx.paths.archive('acme', 'usr'), 'stuck.csv');
    mkdirSync(join(stuck, 'inner'), { recursive: true });
    const s = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'usr', workflow: 'usr', originalPath: 'in/usr/stuck.csv',
      name: 'stuck.csv', size: 1, sha1: 'x', sha256: 'y', location: stuck, receivedAt: T }))!;
    await journal.update(s.id, { state: 'processed', processedAt: T });
    const fine = fx.write(join(fx.paths.archive('acme', 'usr'), 'fine.csv'), 'f');
    const f = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'usr', workflow: 'usr', originalPath: 'in/usr/fine.csv',
      name: 'fine.csv', size: 1, sha1: 'x', sha256: 'z', location: fine, receivedAt: T }))!;
    await journal.update(f.id, { state: 'processed', processedAt: T });
    const before = (await fx.tombstones()).length;

    const run = await runJob(fx.srv, 'retention', '--at', isoAt(T + 46 * DAY));
    assert.equal(run.code, 1);
    assert.equal(run.outcome, 'failed');
    assert.equal(run.errors.length, 1);
    assert.equal(run.errors[0].target, stuck);
    assert.equal(existsSync(fine), false);
    assert.equal((await journal.get(f.id))!.state, 'deleted');
    assert.equal((await journal.get(s.id))!.state, 'processed');
    const tombs = (await fx.tombstones());
    assert.equal(tombs.length, before + 1, 'only the real deletion has a tombstone');
    assert.ok(tombs.every((t) => t.state === 'done'));
    const list = JSON.parse((await fx.srv.cli('jobs', 'list', '--json')).stdout) as Array<{ job: string; lastRun: { outcome: string; error: string } }>;
    const last = list.find((r) => r.job === 'retention')!.lastRun;
    assert.equal(last.outcome, 'failed');
    assert.match(last.error, /stuck\.csv/);

    // Once the obstacle is gone, the next run finishes the job.
    rmSync(stuck, { recursive: true });
    writeFileSync(stuck, 's');
    const retry = await runJob(fx.srv, 'retention', '--at', isoAt(T + 46 * DAY));
    assert.equal(retry.outcome, 'ok');
    assert.equal((await journal.get(s.id))!.state, 'deleted');
    const history = JSON.parse((await fx.srv.cli('jobs', 'history', 'retention', '--limit', '2', '--json')).stdout) as Array<{ id: number; outcome: string; slot: string | null; host: string }>;
    assert.deepEqual(history.map((r) => [r.id, r.outcome, r.slot, r.host]), [[retry.runId, 'ok', null, hostname()], [run.runId, 'failed', null, hostname()]],
      'runs by hand: no scheduled slot, the host that ran them');
    const text = (await fx.srv.cli('jobs', 'history', 'retention', '--limit', '1')).stdout;
    assert.match(text, new RegExp(`^run ${retry.runId} .* by hand on ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  ok`, 'm'));
  });

  test('bad arguments: unknown job, unreadable --at', async () => {
    // A bad argument is a usage error: exit 2 with the usage (README, "Command line").
    for (const args of [['run', 'cleanup'], ['history', 'cleanup']]) {
      const unknown = await fx.srv.cli('jobs', ...args);
      assert.equal(unknown.code, 2, args.join(' '));
      assert.match(unknown.stderr, /'cleanup' is invalid for argument 'job'\. Allowed choices are retention, account-inactivity, key-expiry/);
      assert.match(unknown.stderr, /Usage: fluxgate jobs/);
    }
    const badAt = await fx.srv.cli('jobs', 'run', 'retention', '--at', 'next tuesday');
    assert.equal(badAt.code, 2);
    assert.match(badAt.stderr, /--at "next tuesday" is not an ISO date.*\[FG_USAGE\]/);
    const noSuchDay = await fx.srv.cli('jobs', 'run', 'retention', '--dry-run', '--at', '2027-02-30');
    assert.equal(noSuchDay.code, 2);
    assert.match(noSuchDay.stderr, /2027-02-30 is not a day of the calendar.*\[FG_USAGE\]/);
  });
});
