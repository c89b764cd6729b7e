// `npm test`: runs every *.test.ts under test/ and examples/ with Node's test runner.
// Node 20's `--test` does not expand globs, so the file list is built here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

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
// The servers the tests start run the compiled sources (bin/build.js): compile them once here
// rather than in several test files' servers at the same time.
if (process.env.FLUXGATE_RUN_SOURCES !== '1') createRequire(import.meta.url)('../bin/build.js').ensureBuilt({ force: false });
const concurrency = process.env.FLUXGATE_TEST_CONCURRENCY ?? '2';
const result = spawnSync(process.execPath, [
  '--import', 'tsx',
  '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000',
  ...files,
], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
