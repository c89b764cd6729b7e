import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { silentLogger } from '../../core/logging/logger';
import { bundlePlugin, describePlugin } from '../../core/sandbox/plugin-bundle';
import { SandboxHostWorkers } from '../../core/sandbox/host-workers';
import { SandboxedHandler } from '../../core/sandbox/sandboxed-handler';
import { openDatabase } from '../../core/store/database';
import { SqliteDirectoryRows } from '../../core/store/directory-rows';
import { WalCheckpointer } from '../../core/store/wal-checkpointer';
import { BATCH_ROWS } from '../../plugins/sal/handler';
import { runSandboxed, writeSandboxedSal } from '../helpers/sandbox-run';
import { until } from '../helpers/wait';

// The engine's side of a sandboxed run (core/sandbox/host-worker.ts) as the server runs it: a
// worker thread started ahead, and a store connection that leaves WAL checkpoints to the
// server's WalCheckpointer. Real sandboxes: the sal handler loaded as a plugin, as bench:sal's (s).
const root = mkdtempSync(join(tmpdir(), 'fg-sandbox-host-'));
after(() => rmSync(root, { recursive: true, force: true }));

const NAME = 'ndmat_acme_acme_sal_hrmanager_v6_261121120000.csv';
const HEADER = 'organization_code;registration_reference;lastname;firstname;professional_email;birth_date;city;country\n';

function salPlugin(): { handler: (writes?: SharedArrayBuffer) => SandboxedHandler; manifest: ReturnType<typeof describePlugin>[number]['manifest'] } {
  const file = writeSandboxedSal(root);
  const bundle = bundlePlugin(file);
  const [described] = describePlugin(bundle);
  return {
    manifest: described.manifest,
    handler: (writes) => new SandboxedHandler({ bundle, className: described.name, manifest: described.manifest, directory: { engine: 'sqlite', database: paths.database }, writes }),
  };
}

const paths = new DataPaths(root);

/** The thread ids of this process (Linux /proc). */
const taskIds = (): Set<string> => new Set(readdirSync('/proc/self/task'));
const threads = (): number => taskIds().size;

test('with the server\'s WAL checkpointer, a sandbox\'s commits leave the WAL to it: none copied into the database by the run', async () => {
  const db = openDatabase(paths.database);
  new SqliteDirectoryRows(db).upsertOrganization('acme', { code: 'ACME', name: 'Acme', parentCode: null, attributes: {} });
  // Its write count is what tells the host worker the server checkpoints (not started here: nothing else checkpoints).
  const checkpointer = new WalCheckpointer(db, silentLogger());
  const rows = Array.from({ length: 20_000 }, (_, i) => `ACME;${String(i).padStart(7, '0')};Martin;Anna;p${i}@acme.example;1980-01-01;Paris;FR\n`);
  const input = join(root, 'sal.csv');
  writeFileSync(input, HEADER + rows.join(''));
  const databaseBefore = statSync(paths.database).size;
  const plugin = salPlugin();
  const { outcome, details } = await runSandboxed(plugin.handler(checkpointer.sharedWriteCount), paths, input, { manifest: plugin.manifest, flux: 'sal', fileId: 'f_ckpt', name: NAME });
  assert.equal(outcome.summary, '20000 rows: 20000 created, 0 updated, 0 unchanged, 0 rejected');
  // The sandbox event says where the run's time went on each side (core/sandbox/run-timings.ts).
  const { ms, sandbox, engine } = details[0] as { ms: number; sandbox: Record<string, number>; engine: Record<string, number> };
  assert.equal(engine.batches, 20_000 / BATCH_ROWS + 2, `sal's ${20_000 / BATCH_ROWS} ${BATCH_ROWS}-row batches, and its two at the end (conflicts to undo: none; the kept rows forgotten)`);
  for (const side of [sandbox, engine]) {
    for (const [name, value] of Object.entries(side)) assert.ok(Number.isInteger(value) && value >= 0 && value <= ms, `${name} ${value} within the run's ${ms} ms`);
  }
  assert.ok(sandbox.handlerMs > 0 && sandbox.cpuMs > 0 && sandbox.waitMs <= sandbox.handlerMs, JSON.stringify(sandbox));
  assert.ok(engine.batchMs > 0 && engine.cpuMs > 0 && engine.readMs <= engine.batchMs, JSON.stringify(engine));
  assert.deepEqual(Object.keys(sandbox).sort(), ['connectMs', 'cpuMs', 'gcMs', 'handlerMs', 'startMs', 'waitMs']);
  // By default the committing connection checkpoints past 1000 WAL pages (4 MiB): the run's ~6 MiB would have reached the database file.
  const wal = statSync(`${paths.database}-wal`).size;
  assert.ok(wal > 4 * 1024 * 1024, `the run wrote ${wal} bytes of WAL`);
  assert.equal(statSync(paths.database).size, databaseBefore, 'nothing checkpointed into the database file during the run');
  assert.equal(new SqliteDirectoryRows(db).listEmployees('acme').length, 20_000);
  db.close();
});

test('a server with sandboxed plugins keeps a host worker started ahead; each run takes it and the next is started when it ends', async () => {
  const workers = new SandboxHostWorkers();
  await stat(root); // libuv's thread pool started before counting
  const before = threads();
  workers.start();
  try {
    await until('the spare host worker started', () => threads() > before);
    await new Promise((resolve) => setTimeout(resolve, 300)); // its threads all up (a worker thread is more than one)
    const withSpare = threads();
    const plugin = salPlugin();
    const input = join(root, 'two.csv');
    writeFileSync(input, `${HEADER}ACME;R1;Martin;Anna;a@acme.example;1980-01-01;Paris;FR\nACME;R2;Martin;Paul;p@acme.example;1980-01-01;Paris;FR\n`);
    for (const fileId of ['f_1', 'f_2']) {
      const waiting = taskIds();
      const { outcome, events } = await runSandboxed(plugin.handler(), paths, input, { manifest: plugin.manifest, flux: 'sal', fileId, name: NAME });
      assert.match(outcome.summary ?? '', /^2 rows: /);
      assert.deepEqual(events, ['sandbox']);
      // The run's worker (the spare) has ended; another waits for the next run.
      await until(`a spare again after ${fileId}`, () => threads() === withSpare);
      const now = taskIds();
      assert.ok([...waiting].some((tid) => !now.has(tid)), 'the spare that waited ran the file and ended');
    }
  } finally {
    await workers.stop();
  }
  await until('the spare gone with the service', () => threads() === before);
});
