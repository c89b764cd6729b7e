import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRows } from '../../core/store/directory-rows';
import { WalCheckpointer, WAL_KEPT_BYTES } from '../../core/store/wal-checkpointer';
import { freeBytes, withTmpfs } from '../helpers/tmpfs';
import { skipUnless } from '../helpers/tools';

const skip = skipUnless('tmpfs');
const MiB = 1024 * 1024;

/** A pino logger whose lines are kept, for the warnings an operator would read. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

test('on a 20 MiB file system the WAL is not pre-sized: the free space stays for the key, uploads and reports', { skip }, async () => {
  await withTmpfs(20, async (dir) => {
    const file = join(dir, 'fluxgate.db');
    const db = openDatabase(file);
    const { logger, lines } = capturingLogger();
    const checkpointer = new WalCheckpointer(db, logger, { startBytes: 1024 ** 3 });
    const free = freeBytes(dir);
    checkpointer.start();
    try {
      assert.ok(statSync(`${file}-wal`).size < MiB, `WAL file of ${statSync(`${file}-wal`).size} bytes`);
      assert.ok(freeBytes(dir) > free - MiB, `free space went from ${free} to ${freeBytes(dir)}`);
      assert.ok(lines.some((l) => l.level === 40 && /little free space/.test(String(l.msg))), 'no warning about the free space');
      // The database still works.
      new SqliteDirectoryRows(db).upsertOrganization('acme', { code: 'O1', name: 'One', parentCode: null, attributes: {} });
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });
});

test('a disk that fills while the WAL is pre-sized: the zeros written are undone, the server carries on with a warning', { skip }, async () => {
  await withTmpfs(20, async (dir) => {
    const file = join(dir, 'fluxgate.db');
    const db = openDatabase(file);
    const walBefore = statSync(`${file}-wal`).size;
    const free = freeBytes(dir);
    const { logger, lines } = capturingLogger();
    // The measure says "plenty", as when something else takes the space between the measure and the writes.
    const checkpointer = new WalCheckpointer(db, logger, { startBytes: 1024 ** 3, measureSpace: () => ({ free: 1024 ** 4, size: 10 * 1024 ** 4 }) });
    checkpointer.start();
    try {
      const warning = lines.find((l) => l.level === 40 && /could not be pre-sized/.test(String(l.msg)));
      assert.ok(warning, JSON.stringify(lines));
      assert.equal((warning.err as { code?: string }).code, 'ENOSPC');
      assert.equal(statSync(`${file}-wal`).size, walBefore, 'the zeros were not cut back');
      assert.ok(freeBytes(dir) > free - MiB, `free space went from ${free} to ${freeBytes(dir)}`);
      new SqliteDirectoryRows(db).upsertOrganization('acme', { code: 'O1', name: 'One', parentCode: null, attributes: {} });
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });
});

test('a WAL file left long by a killed server is given back at start when the disk is short', { skip }, async () => {
  await withTmpfs(40, async (dir) => {
    const file = join(dir, 'fluxgate.db');
    const db = openDatabase(file);
    try {
      // What earlier versions left: the WAL pre-sized to 16 MiB on a small disk, then a kill (no clean close).
      const earlier = new WalCheckpointer(db, pino({ level: 'silent' }), { startBytes: 1024 ** 3, presizeBytes: 16 * MiB, measureSpace: () => ({ free: 1024 ** 4, size: 10 * 1024 ** 4 }) });
      earlier.start();
      await earlier.stop();
      assert.equal(statSync(`${file}-wal`).size, 16 * MiB);
      const free = freeBytes(dir);
      const { logger, lines } = capturingLogger();
      const checkpointer = new WalCheckpointer(db, logger, { startBytes: 1024 ** 3, presizeBytes: WAL_KEPT_BYTES });
      checkpointer.start();
      await checkpointer.stop();
      // Given back, but for the journal's small reserve (journalReserveBytes: 1/32 of the free space here).
      assert.ok(statSync(`${file}-wal`).size < MiB, `WAL file of ${statSync(`${file}-wal`).size} bytes`);
      assert.ok(freeBytes(dir) >= free + 14 * MiB, `free space went from ${free} to ${freeBytes(dir)}`);
      assert.ok(lines.some((l) => /unused space is given back/.test(String(l.msg)) && l.truncated === true), JSON.stringify(lines));
    } finally {
      db.close();
    }
  });
});
