import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESS_TOPIC } from '../../core/queue/file-jobs';
import { openDatabase } from '../../core/store/database';
import { SqliteQueueRepository, type Job } from '../../core/store/queue-repository';
import { createAccount, JournalProbe } from '../e2e/engine-support';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { mountSmallDisk } from '../helpers/tmpfs';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// A disk full for longer than a file's attempts (issue #17, item 4): the whole data directory is
// a small tmpfs, filled to the last byte once the server runs; then a sir file arrives (renamed
// into in/sir from dev/ on the same disk, as a co-located server would publish it). Running out
// of space is not the file's fault: processing pauses, with an alert, and resumes once space is
// freed; the file is then processed, with its receipt and report, and no attempt was burnt.
// Retries here (the test server's): 5 attempts at 0.1, 0.2, 0.4, 0.8 s, all spent in 1.5 s.
const skip = skipUnless('tmpfs');
const NAME = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
const DISK = 96 * 1024 * 1024;
let server: TestServer;
let probe: JournalProbe | undefined;
let unmount: (() => void) | undefined;

before(async () => {
  if (skip) return;
  // The file arrives by other means: watched, it is journaled at once, while the WAL still has
  // room (the tree scan would find it a few seconds later, when the full disk may refuse the
  // journal entry too: it then waits in in/sir, and is taken once there is space again).
  server = new TestServer({ config: { engine: { watch: true } } });
  mkdirSync(server.dataDir);
  unmount = mountSmallDisk(server.dataDir, DISK);
  await createAccount(server, 'acme');
  await server.start();
  probe = new JournalProbe(server);
});

after(async () => {
  if (skip) return;
  await server.stop();
  unmount?.();
  await server.cleanup();
});

/** Writes zeros into `path` until the disk says ENOSPC: nothing is left, to the page. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try { writeSync(fd, chunk); } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

test('a disk full for longer than all its attempts: the file waits, then is processed with its receipt and report, no attempt burnt', { skip }, async () => {
  const root = join(server.dataDir, 'sftp', 'acme');
  const staged = join(root, 'dev', NAME);
  copyFileSync(join(REPO_ROOT, 'test', 'fixtures', 'exchange', NAME), staged);
  const filler = join(server.dataDir, 'filler');
  fillDisk(filler);
  renameSync(staged, join(root, 'in', 'sir', NAME));

  await server.waitForLog((l) => l.code === 'FG_DISK_FULL' && String(l.msg).startsWith('ALERT'), 15_000);
  const [file] = (await probe!.byName(NAME));
  assert.ok(file, 'the file was journaled');
  await until('the file is paused', async () => (await probe!.events(file.id)).some((e) => e.type === 'paused'));
  // Well past the 1.5 s the five attempts used to take: the file is still waiting, not dead.
  await new Promise((r) => setTimeout(r, 4000));
  const waiting = (await probe!.get(file.id))!;
  assert.equal(waiting.state, 'received', `still waiting for space, not ${waiting.state}`);
  assert.equal((await probe!.events(file.id)).filter((e) => e.type === 'attempt-failed').length, 0, 'no attempt failed');

  rmSync(filler);
  const done = await probe!.finished(NAME, 30_000);
  assert.equal(done.state, 'processed', JSON.stringify(done.outcome));
  assert.equal(done.outcome?.counts?.created, 7);
  assert.ok(done.receiptPath && existsSync(done.receiptPath), 'the proof of receipt is in out/tra');
  assert.ok(done.reportPath && existsSync(done.reportPath), 'the report is in out/sir');
  assert.ok(existsSync(`${done.reportPath}.sig`), 'the report is signed');
  const events = (await probe!.events(file.id));
  assert.equal(events.filter((e) => e.type === 'attempt-failed').length, 0, 'no attempt failed');
  const paused = events.filter((e) => e.type === 'paused');
  assert.ok(paused.length >= 1);
  assert.equal(paused[0].detail.code, 'FG_DISK_FULL');
  // Each attempt the full disk cut short was given back (one more allowed): one attempt counted.
  const job = await queueJob(file.id);
  assert.equal(job.maxAttempts, 5 + paused.length, 'one attempt given back per pause');
  assert.equal(done.attempts, paused.length + 1);
  await server.waitForLog((l) => l.msg === 'disk space is back: processing resumes');
});

async function queueJob(fileId: string): Promise<Job> {
  const db = openDatabase(join(server.dataDir, 'fluxgate.db'));
  try {
    const job = (await new SqliteQueueRepository(db).list({ topic: PROCESS_TOPIC })).find((j) => j.dedupKey === fileId);
    assert.ok(job, `no queue job for ${fileId}`);
    return job;
  } finally {
    db.close();
  }
}
