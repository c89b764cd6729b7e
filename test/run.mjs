// `npm test`: runs every *.test.ts under test/, examples/ and plugins/ with Node's test runner
// (the test files themselves through tsx), and beside them the quality gates (typecheck, lint,
// architecture rules: test/gates.mjs) and a second pass of the suites of test/postgres-suites.mjs
// on PostgreSQL. The list is built here so that `npm test -- <text>` can pick files by path; such
// a run skips the gates (not the PostgreSQL pass of the files it picks).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { GATES, reportGates, startGate } from './gates.mjs';
import { startPostgresCluster } from './helpers/postgres-cluster.mjs';
import { POSTGRES_SUITES } from './postgres-suites.mjs';

const root = new URL('..', import.meta.url).pathname;
const roots = ['test', 'examples', 'plugins'];
const filter = process.argv[2]; // optional substring, e.g. `npm test -- sftp`

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const files = roots.flatMap((r) => { try { return walk(join(root, r), []); } catch { return []; } })
  .filter((f) => !filter || f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Started first: they read only the sources, and take a minute or two on a busy machine.
const gateNames = GATES.map((g) => g.name).join(', ');
const gates = filter ? undefined : Promise.all(GATES.map((g) => startGate(g)));
console.log(filter
  ? `quality gates (${gateNames}) skipped: a filter was given; npm run check runs them`
  : `quality gates (${gateNames}) running beside the tests; their result comes last`);
// The servers and commands the tests start run the built distribution (dist/, bin/build.js), as
// an install does: built here first when a source is newer than it (esbuild ~0.2 s, plus tsc's
// declarations of the plugin API, a few seconds).
const built = createRequire(import.meta.url)('../bin/build.js').buildIfStale();
if (built) console.log(built);
const concurrency = process.env.FLUXGATE_TEST_CONCURRENCY ?? '2';
// Every temporary file of the run (the tests' data directories, keys, databases and WAL files,
// and those of the servers and clients they start) goes under one directory, removed when the
// run passes: a suite run leaves nothing behind in the system's temp directory.
const scratch = mkdtempSync(join(tmpdir(), 'fluxgate-test-'));
// One private PostgreSQL cluster for the run when a selected test uses one (test/helpers/postgres.ts
// makes a database per test in it) and none is given (FLUXGATE_TEST_POSTGRES_URL); stopped after.
// Started here, not by each test file's process: the files run in parallel processes.
// The PostgreSQL pass: the selected files of test/postgres-suites.mjs once more, with
// FLUXGATE_TEST_STORE=postgres, beside the first pass (unless the first pass is on PostgreSQL
// already, or FLUXGATE_TEST_POSTGRES_PASS=0).
const onPostgresAlready = process.env.FLUXGATE_TEST_STORE === 'postgres';
const postgresPass = onPostgresAlready || process.env.FLUXGATE_TEST_POSTGRES_PASS === '0'
  ? [] : POSTGRES_SUITES.map((s) => s.file).filter((f) => files.includes(f));
const postgresEnv = {};
let postgres;
const needsPostgres = onPostgresAlready || postgresPass.length > 0
  || files.some((f) => readFileSync(join(root, f), 'utf8').includes('helpers/postgres'));
if (!process.env.FLUXGATE_TEST_POSTGRES_URL && needsPostgres) {
  try {
    postgres = await startPostgresCluster();
    postgresEnv.FLUXGATE_TEST_POSTGRES_URL = postgres.url;
    console.log('a private PostgreSQL cluster runs for the tests that use one');
  } catch (err) {
    // Those tests skip, or fail under CI=true (test/helpers/tools.ts): they say why.
    postgresEnv.FLUXGATE_TEST_POSTGRES_UNAVAILABLE = err.message;
    console.error(err.message);
  }
}
// Ctrl-C reaches the test runner too (one process group): it stops its tests and servers, then
// an interrupted run's files are removed as well (kept only on request).
let interrupted = false;
process.on('SIGINT', () => { interrupted = true; });
const testEnv = {
  // Servers a test starts without a config (or with its own) must not all claim the API's default port 8080.
  FLUXGATE_HTTP__PORT: '0',
  ...process.env, ...postgresEnv, TMPDIR: scratch,
};
const child = spawn(process.execPath, [
  '--import', 'tsx',
  '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000',
  ...files,
], { cwd: root, stdio: 'inherit', env: testEnv });
const second = postgresPass.length > 0 ? startPostgresPass(postgresPass) : undefined;
const [status] = await once(child, 'exit');
const secondPassed = second ? reportPostgresPass(await second) : true;
postgres?.stop();
// An interrupted run's gates were interrupted too: nothing to report.
const gatesPassed = gates && !interrupted ? reportGates(await gates) : true;
// Retries: a server an interrupted test started may still be writing there as it stops.
if (((status === 0 && secondPassed) || interrupted) && process.env.FLUXGATE_KEEP_TEST_FILES !== '1') rmSync(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
else console.error(`the run's temporary files are kept in ${scratch}`);
if (interrupted) process.exit(130);
process.exit(status !== 0 ? status ?? 1 : gatesPassed && secondPassed ? 0 : 1);

/**
 * Runs `passFiles` with FLUXGATE_TEST_STORE=postgres in a test runner of its own (two files at a
 * time by default, FLUXGATE_TEST_POSTGRES_CONCURRENCY: one at a time took 14 min on a loaded
 * machine, longer than the first pass; most of a file's time is spent waiting on its servers),
 * its output kept in a file and printed once the first pass is done (reportPostgresPass), so the
 * two do not interleave. It passes when every test passed or was skipped with a reason, and
 * under CI=true each file ran at least one test (a suite skipped whole on PostgreSQL is a suite
 * not tested there).
 */
async function startPostgresPass(passFiles) {
  const log = join(scratch, 'postgres-pass.log');
  const tallyFile = join(scratch, 'postgres-pass.json');
  writeFileSync(log, '');
  console.log(`PostgreSQL pass: ${passFiles.length} file(s) of test/postgres-suites.mjs run again on PostgreSQL beside the rest (their output comes after)`);
  const started = Date.now();
  const pass = spawn(process.execPath, [
    '--import', 'tsx',
    '--test', `--test-concurrency=${process.env.FLUXGATE_TEST_POSTGRES_CONCURRENCY ?? '2'}`, '--test-timeout=180000',
    '--test-reporter=spec', `--test-reporter-destination=${log}`,
    `--test-reporter=${join(root, 'test', 'reporters', 'tally.mjs')}`, `--test-reporter-destination=${tallyFile}`,
    ...passFiles,
  ], { cwd: root, stdio: 'inherit', env: { ...testEnv, FLUXGATE_TEST_STORE: 'postgres' } });
  const [code] = await once(pass, 'exit');
  return { passFiles, code, log, tallyFile, seconds: Math.round((Date.now() - started) / 1000) };
}

/** Prints the PostgreSQL pass's output and counts; whether it passed (startPostgresPass). */
function reportPostgresPass({ passFiles, code, log, tallyFile, seconds }) {
  console.log(`\n── PostgreSQL pass (FLUXGATE_TEST_STORE=postgres): ${passFiles.length} file(s) in ${seconds} s ──`);
  console.log(readFileSync(log, 'utf8'));
  let tally = {};
  try { tally = JSON.parse(readFileSync(tallyFile, 'utf8')); } catch { /* interrupted: no tally */ }
  const totals = { pass: 0, fail: 0, skip: 0 };
  const untested = [];
  for (const f of passFiles) {
    const t = tally[join(root, f)] ?? { pass: 0, fail: 0, skip: 0, skipped: [] };
    for (const k of Object.keys(totals)) totals[k] += t[k];
    if (t.pass === 0 && t.fail === 0) untested.push(f);
    for (const s of t.skipped) console.log(`PostgreSQL pass: skipped in ${f}: ${s.name} (${s.reason || 'no reason given'})`);
  }
  console.log(`PostgreSQL pass: ${totals.pass} passed, ${totals.fail} failed, ${totals.skip} skipped, over ${passFiles.length} file(s), exit ${code}`);
  if (untested.length > 0 && process.env.CI === 'true' && !interrupted) {
    console.error(`PostgreSQL pass: no test ran on PostgreSQL in ${untested.join(', ')}: a suite of test/postgres-suites.mjs must run there (a test of something each engine does its own way checks it on both: cron-runs' dead holder)`);
    return false;
  }
  return code === 0;
}
