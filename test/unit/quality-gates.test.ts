/**
 * The quality gates runner (test/gates.mjs) that `npm test` and `npm run check` use: each gate a
 * real process, a failing one fails the run and shows its output, passing ones stay quiet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/server';

interface GateResult { name: string; ok: boolean; code: number | string | null; output: string }
interface GatesModule {
  GATES: Array<{ name: string; script: string }>;
  startGate: (gate: { name: string; command: [string, string[]] }) => Promise<GateResult>;
  reportGates: (results: GateResult[], out: { write(text: string): void }) => boolean;
}

// A plain JavaScript module (run by Node without tsx): imported by URL, typed by the interface above.
const load = async (): Promise<GatesModule> => (await import(pathToFileURL(join(REPO_ROOT, 'test', 'gates.mjs')).href)) as GatesModule;

const node = (code: string): [string, string[]] => [process.execPath, ['-e', code]];

test('the gates are typecheck, lint and the architecture rules, each its npm script', async () => {
  const { GATES } = await load();
  assert.deepEqual(GATES.map((g) => [g.name, g.script]), [['typecheck', 'typecheck'], ['lint', 'lint'], ['deps', 'deps']]);
});

test('a failing gate fails the whole and its output is printed; a passing one only its name and time', async () => {
  const { startGate, reportGates } = await load();
  const results = await Promise.all([
    startGate({ name: 'quiet', command: node("console.log('nothing to see')") }),
    startGate({ name: 'loud', command: node("console.log('core/x.ts'); console.error('  3:1  error  Promises must be awaited'); process.exit(2)") }),
  ]);
  assert.deepEqual(results.map((r) => [r.name, r.ok, r.code]), [['quiet', true, 0], ['loud', false, 2]]);
  let printed = '';
  assert.equal(reportGates(results, { write: (text) => { printed += text; } }), false);
  assert.match(printed, /quality gates: quiet passed \(\d+\.\d s\), loud FAILED \(\d+\.\d s\)/);
  assert.match(printed, /--- loud failed \(exit 2\) ---\ncore\/x\.ts\n {2}3:1 {2}error {2}Promises must be awaited/);
  assert.doesNotMatch(printed, /nothing to see/, "a passing gate's output is not printed");
  assert.equal(reportGates(results.slice(0, 1), { write: () => undefined }), true);
});

test('a gate that cannot start fails with the reason, instead of hanging or passing', async () => {
  const { startGate } = await load();
  const r = await startGate({ name: 'missing', command: ['/nonexistent/fluxgate-gate', []] });
  assert.equal(r.ok, false);
  assert.match(r.output, /cannot run \/nonexistent\/fluxgate-gate: .*ENOENT/);
});

test('lint leaves out the build in progress (.dist-next-*), which a build beside it renames away mid-lint', async () => {
  const { ESLint } = await import('eslint');
  const eslint = new ESLint({ cwd: REPO_ROOT });
  assert.equal(await eslint.isPathIgnored(join(REPO_ROOT, '.dist-next-12345', 'core', 'app.js')), true);
  assert.equal(await eslint.isPathIgnored(join(REPO_ROOT, 'core', 'app.ts')), false, 'the sources are linted');
});
