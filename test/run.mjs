// `npm test`: runs every *.test.ts under test/, examples/ and plugins/ with Node's test runner
// (the test files themselves through tsx), and beside them the quality gates (typecheck, lint,
// architecture rules: test/gates.mjs). The list is built here so that `npm test -- <text>` can
// pick files by path; such a run skips the gates.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { GATES, reportGates, startGate } from './gates.mjs';
import { startPostgresCluster } from './helpers/postgres-cluster.mjs';

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
const postgresEnv = {};
let postgres;
if (!process.env.FLUXGATE_TEST_POSTGRES_URL && files.some((f) => readFileSync(join(root, f), 'utf8').includes('helpers/postgres'))) {
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
const child = spawn(process.execPath, [
  '--import', 'tsx',
  '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000',
  ...files,
], { cwd: root, stdio: 'inherit', env: {
  // Servers a test starts without a config (or with its own) must not all claim the API's default port 8080.
  FLUXGATE_HTTP__PORT: '0',
  ...process.env, ...postgresEnv, TMPDIR: scratch,
} });
const [status] = await once(child, 'exit');
postgres?.stop();
// An interrupted run's gates were interrupted too: nothing to report.
const gatesPassed = gates && !interrupted ? reportGates(await gates) : true;
// Retries: a server an interrupted test started may still be writing there as it stops.
if ((status === 0 || interrupted) && process.env.FLUXGATE_KEEP_TEST_FILES !== '1') rmSync(scratch, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
else console.error(`the run's temporary files are kept in ${scratch}`);
if (interrupted) process.exit(130);
process.exit(status !== 0 ? status ?? 1 : gatesPassed ? 0 : 1);
