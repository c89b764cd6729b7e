import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { bundlePlugin, describePlugin } from '../../core/sandbox/plugin-bundle';
import { SandboxedHandler } from '../../core/sandbox/sandboxed-handler';
import { openDatabase } from '../../core/store/database';
import { runSandboxed } from '../helpers/sandbox-run';

// A sandbox's V8 heap: at most limits.memoryMb of old generation (FG_PLUGIN_MEMORY past it, in
// test/e2e/plugin-sandbox.test.ts), and an initial old generation of half of it. V8 sizes its
// first limits from the maximum, and under 256 MiB it collected the old generation 12-15 times
// over a 200,000-row sal file instead of 4-5 (docs/benchmarks.md, 2026-12-07 sandbox-sal).
const PLUGIN = join(__dirname, '..', 'fixtures', 'plugins', 'hostile.ts');
const root = mkdtempSync(join(tmpdir(), 'fg-sandbox-heap-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a sandbox runs with its heap limit and an initial old generation of half of it', async () => {
  const paths = new DataPaths(root);
  openDatabase(paths.database).close();
  const bundle = bundlePlugin(PLUGIN);
  const [described] = describePlugin(bundle);
  const input = join(root, 'heap.csv');
  writeFileSync(input, 'heap\n');
  for (const memoryMb of [256, 64]) {
    const manifest = { ...described.manifest, limits: { memoryMb } };
    const handler = new SandboxedHandler({ bundle, className: described.name, manifest, directory: { engine: 'sqlite', database: paths.database } });
    const { outcome, report } = await runSandboxed(handler, paths, input, { manifest, flux: 'probe', fileId: `f_${memoryMb}`, name: 'ndmat_acme_acme_probe_261121100000.csv' });
    assert.equal(outcome.result, 'processed', JSON.stringify(outcome));
    assert.deepEqual(report.messages.map((m) => m.message), [`heap flags: --max-old-space-size=${memoryMb} --initial-old-space-size=${memoryMb / 2}`]);
  }
});
