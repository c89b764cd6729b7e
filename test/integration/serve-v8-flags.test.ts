import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { TestServer } from '../helpers/server';

const commandLine = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const environment = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

/**
 * Starts `server` (run with --trace-gc-verbose) and returns the distinct growing factors V8 used
 * for the old generation's limits once the engine was loaded. The trace prints
 * "[pid:isolate] N ms: Mark-Compact 36.1 (38.2) -> 30.3 (37.7) MB, …", then
 * "[pid:isolate:0] N ms: [HeapController] factor 2.0 based on mu=…" for each limit it sets; the
 * engine's modules make the heap ~30 MB live, before them (the CLI, the config) ~12 MB.
 */
async function loadedEngineFactors(server: TestServer): Promise<string[]> {
  await server.start();
  await server.waitForLog((l) => l.msg === 'intake: start-up scan of every account tree done');
  const factors = (): string[] => {
    const found: string[] = [];
    let loaded = false;
    for (const { line } of server.otherOutput) {
      const compacted = / ms: Mark-Compact \S+ \(\S+\) -> ([\d.]+) /.exec(line);
      if (compacted) loaded = Number(compacted[1]) >= 20;
      const factor = /\[HeapController\] factor ([\d.]+) based on/.exec(line);
      if (factor && loaded) found.push(factor[1]);
    }
    return found;
  };
  const deadline = Date.now() + 15_000;
  while (factors().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const trace = (): string => server.otherOutput.map((o) => o.line).filter((l) => /Mark-Compact|HeapController\] factor/.test(l)).join('\n');
  assert.ok(factors().length > 0, `no mark-compact of the loaded engine in 15 s:\n${trace()}`);
  return [...new Set(factors())];
}

describe('serve: the V8 flags it runs with', () => {
  const servers: TestServer[] = [];
  after(async () => { for (const s of servers) { await s.stop(); await s.cleanup(); } });

  it('`serve` restarts itself in place (same pid) with a 16 MiB semi-space limit; other commands do not', async () => {
    const server = new TestServer();
    servers.push(server);
    await server.start();
    const args = commandLine(server.pid!);
    assert.ok(args.includes('--max-semi-space-size=16'), `serve runs as: ${args.join(' ')}`);
    assert.equal(args.filter((a) => a.startsWith('--max-semi-space-size')).length, 1);
    assert.ok(args.includes('serve'));
  });

  it('the young generation stays at its initial size through the start-up (not grown to its limit by loading)', async () => {
    const server = new TestServer({ config: { http: { metricsPublic: true } } });
    servers.push(server);
    await server.start();
    // What V8 reports of the server's heap, through its own /metrics (prom-client's default metrics).
    const newSpace = async (): Promise<number> => {
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
      const line = /^\S*nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(text);
      assert.ok(line, 'no new-space figure in /metrics');
      return Number(line[1]);
    };
    await server.waitForLog((l) => l.msg === 'intake: start-up scan of every account tree done');
    // 2 × 16 MiB once grown to the limit; at most a few MiB while held.
    assert.ok(await newSpace() <= 8 * 1024 * 1024, `new space ${await newSpace()} bytes after the start-up`);
  });

  it('once the engine is loaded, V8 sets the old generation\'s limits with a factor of 2 (upload-heap.ts), not its own', async () => {
    // V8's own is 4.0 for a young process that allocates fast, and a big file's promoted garbage
    // then piles up to 4x the live heap (bench:sal's peak RSS, docs/benchmarks.md).
    const server = new TestServer({ nodeArgs: ['--trace-gc-verbose'] });
    servers.push(server);
    assert.deepEqual(await loadedEngineFactors(server), ['2.0']);
  });

  it("an operator's own --heap-growing-percent (node's command line) is left as it is", async () => {
    // Node refuses it in NODE_OPTIONS.
    const server = new TestServer({ nodeArgs: ['--trace-gc-verbose', '--heap-growing-percent=50'] });
    servers.push(server);
    assert.deepEqual(await loadedEngineFactors(server), ['1.5']);
  });

  it("an operator's own semi-space size (NODE_OPTIONS or node's command line) is left as it is", async () => {
    const server = new TestServer({ env: { NODE_OPTIONS: '--max-semi-space-size=8' } });
    servers.push(server);
    await server.start();
    assert.equal(commandLine(server.pid!).some((a) => a.startsWith('--max-semi-space-size')), false);
  });

  it('`serve` runs with at most 2 glibc malloc arenas (MALLOC_ARENA_MAX), whatever its V8 flags; an operator\'s own value is kept', async () => {
    const server = new TestServer({ env: { MALLOC_ARENA_MAX: undefined } });
    const flagged = new TestServer({ env: { MALLOC_ARENA_MAX: undefined, NODE_OPTIONS: '--max-semi-space-size=8' } });
    const own = new TestServer({ env: { MALLOC_ARENA_MAX: '4' } });
    servers.push(server, flagged, own);
    await Promise.all([server.start(), flagged.start(), own.start()]);
    assert.ok(environment(server.pid!).includes('MALLOC_ARENA_MAX=2'), 'the default');
    assert.ok(environment(flagged.pid!).includes('MALLOC_ARENA_MAX=2'), 'also when the operator chose the semi-space size');
    assert.equal(commandLine(flagged.pid!).some((a) => a.startsWith('--max-semi-space-size')), false);
    assert.deepEqual(environment(own.pid!).filter((v) => v.startsWith('MALLOC_ARENA_MAX=')), ['MALLOC_ARENA_MAX=4']);
  });
});
