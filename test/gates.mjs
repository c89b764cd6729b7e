// The quality gates: typecheck, lint and architecture rules (docs/architecture.md), the
// package.json scripts of the same names. `npm test` runs them beside the tests when no filter
// is given (test/run.mjs); `npm run check` runs them alone (this file as a program).
// They run at once, each in its own process, their output kept and printed only when one fails.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each gate is the npm script of its name. */
export const GATES = [
  { name: 'typecheck', script: 'typecheck', what: 'tsc --noEmit' },
  { name: 'lint', script: 'lint', what: 'ESLint, type-checked rules' },
  { name: 'deps', script: 'deps', what: 'dependency-cruiser, architecture rules' },
];

/** npm itself when we run under it (`npm test`), else the `npm` on PATH. */
function npmCommand(script) {
  const npmCli = process.env.npm_execpath;
  return npmCli && npmCli.endsWith('.js')
    ? [process.execPath, [npmCli, 'run', '--silent', script]]
    : ['npm', ['run', '--silent', script]];
}

/**
 * Starts one gate; resolves to { name, script, ok, code, seconds, output } when it ends (never
 * rejects: a gate that cannot start fails with the reason as its output). `command`
 * ([file, args]) stands in for the npm script.
 */
export function startGate({ name, script, command }, cwd = root) {
  const [file, args] = command ?? npmCommand(script);
  const started = performance.now();
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    // Beside the tests, whose servers and clients have timeouts, a gate takes what CPU is left
    // (its processes inherit the priority: npm has not started them yet).
    try { if (child.pid) setPriority(child.pid, 10); } catch { /* not permitted: runs at normal priority */ }
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const done = (code, extra = '') => resolve({ name, script, ok: code === 0, code, seconds: (performance.now() - started) / 1000, output: output + extra });
    child.on('error', (err) => done(null, `cannot run ${file}: ${err.message}\n`));
    child.on('close', (code, signal) => done(code ?? signal));
  });
}

/** One line for all the gates, then the output of each that failed. Returns whether all passed. */
export function reportGates(results, out = process.stdout) {
  const line = results.map((r) => `${r.name} ${r.ok ? 'passed' : 'FAILED'} (${r.seconds.toFixed(1)} s)`).join(', ');
  out.write(`\nquality gates: ${line}\n`);
  for (const r of results.filter((g) => !g.ok)) {
    const alone = r.script ? `; run it alone with: npm run ${r.script}` : '';
    out.write(`\n--- ${r.name} failed (exit ${r.code})${alone} ---\n${r.output.trimEnd()}\n`);
  }
  return results.every((r) => r.ok);
}

/** Runs every gate at once; resolves to whether all passed, once each has reported. */
export async function runGates(gates = GATES) {
  return reportGates(await Promise.all(gates.map((g) => startGate(g))));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`running ${GATES.map((g) => `${g.name} (${g.what})`).join(', ')}…\n`);
  process.exit((await runGates()) ? 0 : 1);
}
