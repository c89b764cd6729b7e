#!/usr/bin/env node
'use strict';
// `fluxgate files | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

const { join, relative, sep } = require('node:path');
const { ensureBuilt, DIST, ROOT } = require('./build');

// tsx looks for tsconfig.json in the working directory; decorators need the repo's, wherever we run from.
process.env.TSX_TSCONFIG_PATH = process.env.TSX_TSCONFIG_PATH || join(ROOT, 'tsconfig.json');
const Module = require('node:module');

let entry = join(ROOT, 'core', 'cli', 'main.ts');
// The server's own sources run compiled (bin/build.js: dist/ is rebuilt when a source changed).
if (process.env.FLUXGATE_RUN_SOURCES !== '1' && ensureBuilt()) {
  entry = join(DIST, 'core', 'cli', 'main.js');
  // tsx only for plugins written in TypeScript (config `plugins:`, examples/), registered when
  // the first one loads: registering it turns on source maps for every module loaded after.
  Module._extensions['.ts'] = function loadTypeScript(module, filename) {
    require('tsx/cjs');
    if (Module._extensions['.ts'] === loadTypeScript) throw new Error(`cannot load ${filename}: tsx did not register .ts`);
    return Module._extensions['.ts'](module, filename);
  };
  // A TypeScript plugin imports core/plugin-api from the sources: it gets the compiled modules
  // the server runs, so there is one plugin API (one FileRejection class, one manifest registry).
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    const file = resolveFilename.call(this, request, parent, isMain, options);
    if (!file.endsWith('.ts')) return file;
    const rel = relative(ROOT, file);
    if (!rel.startsWith(`core${sep}`) && !rel.startsWith(`plugins${sep}`)) return file;
    return join(DIST, `${rel.slice(0, -3)}.js`);
  };
} else {
  require('tsx/cjs');
}

require(entry)
  .main(process.argv)
  .then((code) => { if (typeof code === 'number') process.exitCode = code; })
  .catch((err) => {
    process.stderr.write(`fluxgate: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  });
