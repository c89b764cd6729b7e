/**
 * core/sftp/session/upload-heap.ts: while uploads are open, V8's old-generation limit after a
 * mark-compact is set HEADROOM_BYTES above the live heap (--heap-growing-percent), so the
 * external memory an upload churns through cannot set off one mark-compact after another; in a
 * server, outside uploads, the limit is twice the live heap instead of up to four times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { growingPercentFor, HEADROOM_BYTES, heapGrowingPercent, holdUploadHeadroom, SERVER_GROWING_PERCENT } from '../../core/sftp/session/upload-heap';

const MiB = 1024 * 1024;
/** The growing factor of one old-generation limit computation in V8's --trace-gc-verbose output. */
const FACTOR = /\[HeapController\] (?:factor ([\d.]+) based on |Limit: .*\(([\d.]+)\)$)/;

test('the growing percent puts the limit HEADROOM_BYTES above the heap, within V8\'s own factors', () => {
  assert.equal(HEADROOM_BYTES, 64 * MiB);
  // The idle server's heap (~26 MB): 64/26, a factor of ~3.5.
  assert.equal(growingPercentFor(26 * MiB), 247);
  assert.equal(growingPercentFor(16 * MiB), 300); // at most V8's largest factor, 4
  assert.equal(growingPercentFor(128 * MiB), 50);
  assert.equal(growingPercentFor(4096 * MiB), 10);
  assert.equal(growingPercentFor(0), 300);
});

test('held while any upload is open, released once per upload', () => {
  assert.equal(heapGrowingPercent(), 0);
  const first = holdUploadHeadroom();
  assert.ok(heapGrowingPercent() >= 10 && heapGrowingPercent() <= 300);
  const second = holdUploadHeadroom();
  first();
  first(); // idempotent: must not release the second upload's hold
  assert.notEqual(heapGrowingPercent(), 0);
  second();
  assert.equal(heapGrowingPercent(), 0);
});

/** Runs `body` in a child process with --trace-gc-verbose; the factors of V8's limit computations between two printed marks. */
function factorsBetween(body: string, from: string, to: string, liveObjects = 600_000): { stdout: string; factors: string[] } {
  // A child process: the flag is process-wide. --trace-gc-verbose prints the factor of each
  // limit computation: V8 11 (Node 20) at the end of "[HeapController] Limit: old size: … KB,
  // new limit: … KB (4.0)", V8 13 and later (Node 24, 26) on a line of its own,
  // "[HeapController] factor 4.0 based on mu=…". Either is read.
  const module = join(__dirname, '..', '..', 'core', 'sftp', 'session', 'upload-heap.ts');
  // ~60 MB live by default (600,000 objects), so the held factor (~2.1) is not the 4.0 V8 picks
  // itself for a young process.
  const script = `
    const { holdUploadHeadroom, holdServerHeapGrowing, heapGrowingPercent } = require(${JSON.stringify(module)});
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    globalThis.live = Array.from({ length: ${liveObjects} }, (_, i) => ({ i, s: 'item ' + i, a: [i, i + 1] }));
    gc();
    (async () => { ${body} })();
  `;
  const run = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '--require', 'tsx/cjs', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.split('\n');
  const fromAt = lines.findIndex((l) => l.startsWith(from));
  const toAt = lines.findIndex((l) => l.startsWith(to));
  assert.ok(fromAt >= 0 && toAt > fromAt, run.stdout);
  const factors = lines.slice(fromAt, toAt)
    .map((l) => FACTOR.exec(l)).map((m) => m?.[1] ?? m?.[2])
    .filter((f): f is string => f !== undefined);
  return { stdout: run.stdout, factors };
}

test('V8 uses the held factor for the limit it sets at the next mark-compact', () => {
  const { stdout, factors } = factorsBetween(`
    const release = holdUploadHeadroom();
    console.log('HELD ' + heapGrowingPercent());
    gc();
    console.log('GC DONE');
    release();
  `, 'HELD', 'GC DONE');
  const held = Number(/HELD (\d+)/.exec(stdout)?.[1]);
  assert.ok(held >= 10 && held < 300, stdout);
  assert.equal(factors.length, 1, stdout);
  assert.equal(factors[0], (1 + held / 100).toFixed(1));
});

test('the process\'s first upload sets the headroom\'s limit at once (one mark-compact, before its data); later uploads cost no GC', () => {
  // Without it the limit computed at start-up stays until the first uploads' promotions reach
  // it: 2 mark-compacts in the second or third upload of every bench:sftp run.
  const body = `
    console.log('FIRST');
    const first = holdUploadHeadroom();
    console.log('HELD ' + heapGrowingPercent());
    first();
    const second = holdUploadHeadroom();
    second();
    console.log('SECOND DONE');
  `;
  const { stdout, factors } = factorsBetween(body, 'FIRST', 'HELD');
  const held = Number(/HELD (\d+)/.exec(stdout)?.[1]);
  assert.deepEqual(factors, [(1 + held / 100).toFixed(1)], stdout);
  assert.deepEqual(factorsBetween(body, 'HELD', 'SECOND DONE').factors, [], stdout);
});

test('when the last upload closes after a mark-compact under the headroom, one mark-compact sets V8\'s own limit at once', () => {
  // Without it the held limit outlasts the upload until a mark-compact reaches it, and the
  // file just uploaded is processed under it (bench:sal's peak RSS, docs/benchmarks.md).
  const { stdout, factors } = factorsBetween(`
    const release = holdUploadHeadroom();
    const held = heapGrowingPercent();
    gc();
    await tick(); // the server's uploads last longer than the GC's report takes to arrive
    console.log('RELEASING ' + held);
    release();
    console.log('RELEASED ' + heapGrowingPercent());
  `, 'RELEASING', 'RELEASED');
  const held = Number(/RELEASING (\d+)/.exec(stdout)?.[1]);
  assert.match(stdout, /RELEASED 0/);
  assert.equal(factors.length, 1, stdout);
  assert.notEqual(factors[0], (1 + held / 100).toFixed(1), stdout);
});

test('an upload closing with no mark-compact under the headroom costs no GC', () => {
  const { stdout, factors } = factorsBetween(`
    const release = holdUploadHeadroom();
    await tick();
    console.log('RELEASING');
    release();
    console.log('RELEASED ' + heapGrowingPercent());
  `, 'RELEASING', 'RELEASED');
  assert.match(stdout, /RELEASED 0/);
  assert.deepEqual(factors, [], stdout);
});

test('in a server, outside uploads, V8 sets its limits with a factor of 2', () => {
  // V8's own choice is up to 4 while a big file is processed (or at start-up), and the file's
  // promoted garbage piles up to that limit: bench:sal's peak RSS, docs/benchmarks.md.
  assert.equal(SERVER_GROWING_PERCENT, 100);
  const { stdout, factors } = factorsBetween(`
    holdServerHeapGrowing();
    console.log('HELD ' + heapGrowingPercent());
    gc();
    console.log('GC DONE');
  `, 'HELD', 'GC DONE');
  assert.match(stdout, /HELD 100/);
  assert.deepEqual(factors, ['2.0'], stdout);
});

test('in a server, the upload headroom is a floor, and the server\'s factor applies again when the last upload closes', () => {
  const { stdout, factors } = factorsBetween(`
    holdServerHeapGrowing();
    const release = holdUploadHeadroom();
    const held = heapGrowingPercent();
    gc();
    await tick();
    console.log('RELEASING ' + held);
    release();
    console.log('RELEASED ' + heapGrowingPercent());
  `, 'RELEASING', 'RELEASED', 1_100_000);
  // ~110 MB live: 64 MiB of headroom alone would be ~60 %, less than the server's 100.
  assert.match(stdout, /RELEASING 100\n/);
  assert.match(stdout, /RELEASED 100/);
  // The mark-compact at the close sets the server's limit at once.
  assert.deepEqual(factors, ['2.0'], stdout);
});
