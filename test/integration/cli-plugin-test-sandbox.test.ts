import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TestServer } from '../helpers/server';

// `fluxgate plugin test` on a module listed under plugins: runs it in its sandbox, as the server
// would: an integrator sees there what the server would refuse (FG_PLUGIN_PERMISSION), and what
// it grants works (ctx.directory.batch over the sandbox's IPC). The same module not listed runs
// in the CLI's process, as before. Nothing of the data directory is written either way.
const PLUGIN = join(__dirname, '..', 'fixtures', 'plugins', 'hostile.ts');
const NAME = 'ndmat_acme_acme_probe_261121100000.csv';

interface Tried { result: string; code: string | null; summary: string | null; sandboxed: boolean; messages: Array<{ message: string }>; directory: Record<string, { before: number; after: number }> }

describe('fluxgate plugin test and the sandbox', () => {
  const listed = new TestServer({ config: { plugins: [PLUGIN] } });
  const unlisted = new TestServer();
  after(async () => { await listed.cleanup(); await unlisted.cleanup(); });
  const files = mkdtempSync(join(tmpdir(), 'fg-plugin-test-'));
  const probe = (content: string): string => {
    const path = join(mkdtempSync(join(files, 'p-')), NAME);
    writeFileSync(path, content);
    return path;
  };
  const tryIt = async (server: TestServer, content: string): Promise<Tried> => {
    const r = await server.cli('plugin', 'test', PLUGIN, probe(content), '--json');
    return JSON.parse(r.stdout) as Tried;
  };

  test('listed under plugins: reading outside its grants is FG_PLUGIN_PERMISSION, as on the server', async () => {
    const out = await tryIt(listed, 'read\n/etc/hostname\n');
    assert.equal(out.sandboxed, true);
    assert.equal(out.result, 'failed', JSON.stringify(out));
    assert.equal(out.code, 'FG_PLUGIN_PERMISSION');
    assert.match(out.summary ?? '', /may not read "\/etc\/hostname".*missing grant: permissions\.read/);
    assert.ok(!out.messages.some((m) => m.message.startsWith('leaked:')));
  });

  test('listed under plugins: a batch runs over the sandbox\'s IPC on a directory of its own; the data directory is not written', async () => {
    const out = await tryIt(listed, 'batch\n');
    assert.equal(out.sandboxed, true);
    assert.equal(out.result, 'processed', JSON.stringify(out));
    assert.match(out.messages.map((m) => m.message).join('\n'), /batch: created true, stored Batch-B1, absent undefined/);
    assert.deepEqual(out.directory.employees, { before: 0, after: 1 });
    assert.throws(() => readdirSync(listed.dataDir), /ENOENT/, 'no data directory was made');
  });

  test('not listed: the module runs in the CLI\'s process, as before (no sandbox: nothing refused)', async () => {
    const out = await tryIt(unlisted, 'read\n/etc/hostname\n');
    assert.equal(out.sandboxed, false);
    assert.equal(out.result, 'processed', JSON.stringify(out));
    assert.ok(out.messages.some((m) => m.message.startsWith('leaked:')));
  });
});
