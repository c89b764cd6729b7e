import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/logging/logger';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRows } from '../../core/store/directory-rows';
import { WalCheckpointer, walBytesInUse } from '../../core/store/wal-checkpointer';
import { backgroundNice } from '../../core/thread-priority';
import { python } from '../helpers/clients';
import { threadNiceValues } from '../helpers/threads';
import { skipUnless } from '../helpers/tools';
import { REPO_ROOT } from '../helpers/server';
import { until } from '../helpers/wait';

/** A database file in a new temporary directory. */
const newDatabaseFile = () => join(mkdtempSync(join(tmpdir(), 'fg-wal-')), 'fluxgate.db');

/** Writes 100 organizations of ~1 KB each (about 100 KB of WAL) per transaction; `rows`: how many so far. */
function organizationBatches(repo: SqliteDirectoryRows): { write(): void; readonly rows: number } {
  const name = 'x'.repeat(1000);
  let batch = 0;
  return {
    write: () => repo.transaction(() => {
      batch++;
      for (let i = 0; i < 100; i++) repo.upsertOrganization('acme', { code: `O${batch}-${i}`, name, parentCode: null, attributes: {} });
    }),
    get rows() { return batch * 100; },
  };
}


test('WAL checkpoints run on the worker thread, never in the writer’s commits, and SQLite’s own come back at stop', async () => {
  const file = newDatabaseFile();
  const db = openDatabase(file);
  const repo = new SqliteDirectoryRows(db);
  const checkpointer = new WalCheckpointer(db, silentLogger(), { startBytes: 1024 * 1024, checkIntervalMs: 20, checkpointIntervalMs: 20 });
  checkpointer.start();
  try {
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
    const empty = statSync(file).size;
    // About 8 MB of rows in 80 commits: past the 1 MiB start threshold and SQLite's default 1000 pages.
    const batches = organizationBatches(repo);
    for (let t = 0; t < 80; t++) {
      batches.write();
      await new Promise((r) => setImmediate(r)); // the event loop turns between batches, as in a handler
    }
    await until('the worker starts', () => checkpointer.running);
    // It is background work, at a lower CPU priority than the writer.
    const mine = threadNiceValues().get(process.pid)!;
    await until('the worker lowers its priority', () => [...threadNiceValues().values()].includes(backgroundNice(mine)));
    assert.ok(backgroundNice(mine) > mine, 'run the tests below nice 19');
    // This connection never checkpoints (autocheckpoint 0), so only the worker can have filled the database file.
    await until('the database file holds the rows', () => statSync(file).size > empty + 4 * 1024 * 1024);
    assert.equal(repo.listOrganizations('acme').length, 8000);
  } finally {
    await checkpointer.stop();
  }
  assert.equal(checkpointer.running, false);
  assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
  db.close();
});

test('compiled (dist/, what the server runs), the checkpointer starts its worker module and the worker checkpoints', async () => {
  // The build of the sources (npm test makes it first): the worker is dist/core/store/wal-checkpoint-worker.js.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built JavaScript at a computed path, not a module of the sources
  const dist = (path: string): unknown => require(join(REPO_ROOT, 'dist', 'core', 'store', path));
  const { WalCheckpointer: Compiled } = dist('wal-checkpointer.js') as typeof import('../../core/store/wal-checkpointer');
  const { openDatabase: openCompiled } = dist('database.js') as typeof import('../../core/store/database');
  const file = newDatabaseFile();
  const db = openCompiled(file);
  const logger = silentLogger();
  const failures: unknown[] = [];
  logger.error = (obj: unknown) => { failures.push(obj); };
  const checkpointer = new Compiled(db, logger, { startBytes: 1024 * 1024, checkIntervalMs: 20, checkpointIntervalMs: 20 });
  checkpointer.start();
  try {
    const empty = statSync(file).size;
    const batches = organizationBatches(new SqliteDirectoryRows(db));
    for (let t = 0; t < 40; t++) {
      batches.write();
      await new Promise((r) => setImmediate(r));
    }
    await until('the worker starts', () => checkpointer.running);
    await until('the worker copies the WAL into the database file', () => statSync(file).size > empty + 2 * 1024 * 1024);
    assert.deepEqual(failures, [], 'the worker did not fail');
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test('a writer that never lets the event loop reach the timers still gets the worker, and the WAL starts over instead of growing', async () => {
  const file = newDatabaseFile();
  const db = openDatabase(file);
  // deferBytes under the WAL's size: the worker checkpoints while the writer commits, as it must
  // once a big file's WAL reaches deferBytes.
  const checkpointer = new WalCheckpointer(db, silentLogger(), {
    startBytes: 1024 * 1024, restartBytes: 2 * 1024 * 1024, deferBytes: 8 * 1024 * 1024, checkIntervalMs: 3_600_000, checkpointIntervalMs: 20,
  });
  const repo = new SqliteDirectoryRows(db, { afterWrite: () => checkpointer.noteWrite() });
  const batches = organizationBatches(repo);
  const writeBatch = () => batches.write();
  checkpointer.start();
  try {
    // The check timer never fires here: only the writes can start the worker.
    for (let t = 0; t < 200 && !checkpointer.running; t++) writeBatch();
    assert.ok(checkpointer.running, 'the writes did not start the worker');
    const empty = statSync(file).size;
    await until('the worker checkpoints', () => { writeBatch(); return statSync(file).size > empty; });
    // The worker checkpoints. Now 160 MB of WAL frames in commits a handler would make: back to
    // back, with a millisecond of row validation between them and an event-loop turn now and then.
    const wal = () => statSync(`${file}-wal`).size;
    const before = wal();
    for (let t = 0; t < 320; t++) {
      writeBatch();
      const validated = performance.now() + 1;
      while (performance.now() < validated);
      if (t % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    assert.ok(wal() < before + 48 * 1024 * 1024, `the WAL grew from ${before} to ${wal()} bytes: it never started over`);
    assert.equal(repo.listOrganizations('acme').length, batches.rows);
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test('while a writer commits, the worker leaves the WAL alone, and copies it once the writer pauses', async () => {
  const file = newDatabaseFile();
  const db = openDatabase(file);
  // A long quiet period: a writer stalled by a loaded machine must not look paused. (The test
  // above bounds the WAL with deferBytes while a writer commits.)
  const checkpointer = new WalCheckpointer(db, silentLogger(), { startBytes: 1024 * 1024, quietMs: 3_000, checkIntervalMs: 20, checkpointIntervalMs: 20 });
  const repo = new SqliteDirectoryRows(db, { afterWrite: () => checkpointer.noteWrite() });
  const batches = organizationBatches(repo);
  const writeBatch = async () => {
    batches.write();
    await new Promise((r) => setTimeout(r, 10)); // a handler commits every 10-20 ms
  };
  checkpointer.start();
  try {
    const empty = statSync(file).size;
    while (!checkpointer.running) await writeBatch();
    // Two seconds more of commits (about 15 MB) while the worker runs and ticks every 20 ms: it copies none of it.
    for (const end = Date.now() + 2_000; Date.now() < end;) await writeBatch();
    assert.equal(statSync(file).size, empty, 'the worker checkpointed while the writer was committing');
    // The writer pauses: the worker copies the WAL into the database file.
    await until('a checkpoint once the writer pauses', () => statSync(file).size > empty + 8 * 1024 * 1024);
    assert.equal(repo.listOrganizations('acme').length, batches.rows);
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test('at start the WAL file is pre-sized with zeros after its frames, and SQLite reads, recovers and restarts it as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-wal-'));
  const file = join(dir, 'fluxgate.db');
  const wal = `${file}-wal`;
  const db = openDatabase(file);
  db.pragma('wal_autocheckpoint = 0');
  const repo = new SqliteDirectoryRows(db);
  const write = (from: number, to: number) => repo.transaction(() => {
    for (let i = from; i < to; i++) repo.upsertOrganization('acme', { code: `O${i}`, name: `Organization ${i}`, parentCode: null, attributes: {} });
  });
  write(0, 100);
  // Frames already in the WAL (not yet copied to the database) must stay as they are.
  const frames = readFileSync(wal);
  assert.ok(frames.length > 32, 'the WAL holds frames before the start');
  // The frames SQLite wrote, from the start of the file on.
  assert.equal(walBytesInUse(file), frames.length);
  const presizeBytes = 4 * 1024 * 1024;
  const checkpointer = new WalCheckpointer(db, silentLogger(), { presizeBytes, startBytes: 1024 ** 3 });
  checkpointer.start();
  try {
    const sized = readFileSync(wal);
    assert.equal(sized.length, presizeBytes);
    assert.equal(walBytesInUse(file), frames.length, 'the zeros counted as frames');
    assert.ok(sized.subarray(0, frames.length).equals(frames), 'pre-sizing changed frames already in the WAL');
    assert.ok(sized.subarray(frames.length).every((b) => b === 0), 'pre-sizing wrote something other than zeros');

    write(100, 200);
    // A crash now: the database and WAL files as they are on disk, without the shared-memory
    // index, must recover every committed row from the frames, stopping at the zeros.
    const crashed = (name: string) => {
      const copy = join(dir, name);
      mkdirSync(copy);
      copyFileSync(file, join(copy, 'fluxgate.db'));
      copyFileSync(wal, join(copy, 'fluxgate.db-wal'));
      const reopened = openDatabase(join(copy, 'fluxgate.db'));
      try {
        return { organizations: new SqliteDirectoryRows(reopened).listOrganizations('acme').length, integrity: reopened.pragma('integrity_check', { simple: true }) };
      } finally {
        reopened.close();
      }
    };
    assert.deepEqual(crashed('crash-1'), { organizations: 200, integrity: 'ok' });

    // The WAL starts over after a checkpoint: new frames from its start, the zeros after them ignored.
    const before = walBytesInUse(file);
    assert.equal(db.pragma('wal_checkpoint(RESTART)', { simple: true }), 0);
    write(200, 210);
    assert.ok(walBytesInUse(file) < before, 'the stale frames after the new ones counted as frames');
    assert.equal(statSync(wal).size, presizeBytes, 'the WAL file was cut back below its pre-sized length');
    assert.deepEqual(crashed('crash-2'), { organizations: 210, integrity: 'ok' });
  } finally {
    await checkpointer.stop();
  }
  // A WAL already this long or longer is left alone.
  const again = new WalCheckpointer(db, silentLogger(), { presizeBytes: 1024 * 1024, startBytes: 1024 ** 3 });
  again.start();
  await again.stop();
  assert.equal(statSync(wal).size, presizeBytes);
  assert.equal(repo.listOrganizations('acme').length, 210);
  db.close();
});

test('the worker starts on the frames the WAL holds, not on the length of its pre-sized file', async () => {
  const file = newDatabaseFile();
  const db = openDatabase(file);
  const checkpointer = new WalCheckpointer(db, silentLogger(), { presizeBytes: 4 * 1024 * 1024, startBytes: 1024 * 1024, checkIntervalMs: 20 });
  const repo = new SqliteDirectoryRows(db, { afterWrite: () => checkpointer.noteWrite() });
  checkpointer.start();
  try {
    assert.equal(statSync(`${file}-wal`).size, 4 * 1024 * 1024);
    assert.ok(walBytesInUse(file) < 1024 * 1024);
    await new Promise((r) => setTimeout(r, 200)); // ten checks
    assert.equal(checkpointer.running, false, 'the pre-sized WAL file started the worker');
    // About 2 MB of frames.
    const batches = organizationBatches(repo);
    for (let t = 0; t < 20; t++) {
      batches.write();
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(walBytesInUse(file) >= 1024 * 1024);
    await until('the worker starts', () => checkpointer.running);
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

// SQLite's shared-memory lock (DMS, byte 128 of the -shm file): held by every connection to the
// database. Asked from another process (F_GETLK, Linux's struct flock): only another process sees the locks.
const SHM_LOCK_HELD = `
import fcntl, struct, sys
with open(sys.argv[1], 'r+b') as f:
  lock = fcntl.fcntl(f, fcntl.F_GETLK, struct.pack('hhqqi4x', fcntl.F_WRLCK, 0, 128, 1, 0))
  print('held' if struct.unpack('hhqqi4x', lock)[0] != fcntl.F_UNLCK else 'free')`;

test('pre-sizing the WAL and reading its frames leave SQLite’s locks on the database alone', { skip: skipUnless('python3') }, async () => {
  const file = newDatabaseFile();
  const db = openDatabase(file);
  db.pragma('wal_autocheckpoint = 0');
  const repo = new SqliteDirectoryRows(db);
  repo.upsertOrganization('acme', { code: 'O1', name: 'Organization 1', parentCode: null, attributes: {} });
  const lock = async () => (await python(SHM_LOCK_HELD, [`${file}-shm`])).stdout.trim();
  const checkpointer = new WalCheckpointer(db, silentLogger(), { presizeBytes: 1024 * 1024, startBytes: 1024 ** 3 });
  try {
    assert.equal(await lock(), 'held');
    checkpointer.start();
    assert.equal(statSync(`${file}-wal`).size, 1024 * 1024);
    assert.equal(await lock(), 'held', 'pre-sizing the WAL released SQLite’s lock on the shared memory');
    assert.ok(walBytesInUse(file) > 0);
    // POSIX locks belong to the process: closing any descriptor on the -shm file drops them all.
    // Another process opening the database then found it unused and rebuilt the shared memory
    // this one maps: the server died of SIGBUS.
    assert.equal(await lock(), 'held', 'reading the WAL released SQLite’s lock on the shared memory');
  } finally {
    await checkpointer.stop();
    db.close();
  }
});
