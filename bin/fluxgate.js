#!/usr/bin/env node
'use strict';
// `fluxgate files | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

// V8's compiled code of the modules, kept between runs (Node >= 22.1): a one-line command spends
// most of its time loading code (docs/benchmarks.md). Under the temporary directory, per Node
// version (Node keys it so): the install may be read-only; if it cannot be written, nothing changes.
require('node:module').enableCompileCache?.();

/**
 * `files [filters]` and `files show ID`: the short way when it can (core/cli/fast-path.ts: a
 * configuration checked before, the query answered), before anything else, the staleness check
 * of dist/ included (a stat of every source, ~10 ms: a developer's warning a read-only query
 * does without). Anything it cannot do (dist/ missing too) goes the usual way below.
 */
function fastPath() {
  const args = process.argv.slice(2);
  if (!args.includes('files')) return false;
  try {
    return require('../dist/core/cli/fast-path.js').runFastPath(args);
  } catch {
    return false;
  }
}

function fullCli() {
  // Runs the compiled distribution (dist/, made by `npm install` or `npm run build`: bin/build.js).
  // Nothing is compiled or written here: an install may be read-only.
  const { staleReason } = require('./build');

  const reason = staleReason();
  if (reason === 'dist/ has not been built') {
    process.stderr.write('fluxgate: the server is not built (dist/ is missing): run `npm run build` (npm install runs it) in its directory [FG_NOT_BUILT]\n');
    process.exit(1);
  }
  // A developer's edited source would otherwise run stale without a word.
  if (reason) process.emitWarning(`fluxgate runs dist/, which is older than its sources (${reason}): run \`npm run build\``);

  // The server's young generation: V8 13 (Node 24) lets its semi-spaces grow to 32 MiB each on a
  // machine with this much memory, ~70 MB of the server's peak RSS on a big file (bench:sal,
  // docs/benchmarks.md). The limit is read once, when the process starts: `serve` starts itself
  // again, in place (same pid, execve(2)), with it, unless the operator chose a semi-space size.
  // Same for glibc's malloc arenas (MALLOC_ARENA_MAX, read when the process starts): by default
  // each thread that allocates (the main thread, the CSV parse worker, a sandbox's engine side,
  // SQLite's and libuv's) may get its own, up to 8 per core, and freed memory stays in them: the
  // server's peak RSS on bench:sal varied 276-354 MB from round to round with them, 264-283 MB
  // with 2 (docs/benchmarks.md, 2026-12-07). An operator's own MALLOC_ARENA_MAX is kept.
  const { commandName } = require('../dist/core/cli/commands/index.js');
  const SERVE_V8_FLAGS = ['--max-semi-space-size=16'];
  const SERVE_MALLOC_ARENAS = '2';
  const chosen = [...process.execArgv, process.env.NODE_OPTIONS || ''].some((a) => /semi[-_]space/.test(a));
  const arenasChosen = process.env.MALLOC_ARENA_MAX !== undefined;
  if ((!chosen || !arenasChosen) && typeof process.execve === 'function' && commandName(process.argv.slice(2)) === 'serve') {
    process.execve(process.execPath, [process.execPath, ...(chosen ? [] : SERVE_V8_FLAGS), ...process.execArgv, process.argv[1], ...process.argv.slice(2)],
      { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? SERVE_MALLOC_ARENAS });
  }

  require('../dist/core/cli/main.js')
    .main(process.argv)
    .then((code) => { if (typeof code === 'number') process.exitCode = code; })
    .catch((err) => {
      process.stderr.write(`fluxgate: ${err && err.message ? err.message : err}\n`);
      process.exitCode = 1;
    });
}

if (!fastPath()) fullCli();
