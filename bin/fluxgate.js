#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly: no build step between `npm install` and `npm start`.
// tsx looks for tsconfig.json in the working directory; decorators need the repo's, wherever we run from.
process.env.TSX_TSCONFIG_PATH = process.env.TSX_TSCONFIG_PATH || require('node:path').join(__dirname, '..', 'tsconfig.json');
// `fluxgate files | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });
require('tsx/cjs');
require('../core/cli/main.ts')
  .main(process.argv)
  .then((code) => { if (typeof code === 'number') process.exitCode = code; })
  .catch((err) => {
    process.stderr.write(`fluxgate: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  });
