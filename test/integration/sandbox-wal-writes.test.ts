import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { silentLogger } from '../../core/logging/logger';
import { bundlePlugin, describePlugin } from '../../core/sandbox/plugin-bundle';
import { SandboxedHandler } from '../../core/sandbox/sandboxed-handler';
import { openDatabase } from '../../core/store/database';
import { WalCheckpointer } from '../../core/store/wal-checkpointer';
import { runSandboxed } from '../helpers/sandbox-run';

// Directory writes a sandboxed plugin makes are committed by the sandbox's engine side, on its
// own thread and store connection: they must count for the WAL checkpointer as the server's own
// writes do (WalCheckpointer.noteWrite: it defers checkpoints while a writer commits). A real
// sandbox run: the hostile fixture's `batch` probe, a child process under the permission model.
const PLUGIN = join(__dirname, '..', 'fixtures', 'plugins', 'hostile.ts');

const root = mkdtempSync(join(tmpdir(), 'fg-sandbox-wal-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a sandboxed plugin\'s directory transactions move the WAL checkpointer\'s write count', async () => {
  const paths = new DataPaths(root);
  const db = openDatabase(paths.database);
  const checkpointer = new WalCheckpointer(db, silentLogger());
  const writes = new Int32Array(checkpointer.sharedWriteCount);
  const bundle = bundlePlugin(PLUGIN);
  const [described] = describePlugin(bundle);
  const handler = new SandboxedHandler({ bundle, className: described.name, manifest: described.manifest, directory: { engine: 'sqlite', database: paths.database }, writes: checkpointer.sharedWriteCount });

  const input = join(root, 'batch.csv');
  writeFileSync(input, 'batch\n');
  const before = Atomics.load(writes, 0);
  const { outcome, report, events } = await runSandboxed(handler, paths, input,
    { manifest: described.manifest, flux: 'probe', fileId: 'f_wal', name: 'ndmat_acme_acme_probe_261121100000.csv' });
  db.close();
  assert.equal(outcome.result, 'processed', JSON.stringify(outcome));
  assert.match(report.messages.map((m) => m.message).join('\n'), /batch: created true/, 'the probe\'s batch ran');
  // The probe commits one batch and rolls one back (and a rollback is no write to checkpoint).
  assert.ok(Atomics.load(writes, 0) - before >= 1, `writes noted: ${Atomics.load(writes, 0) - before}`);
  assert.deepEqual(events, ['sandbox']);
});
