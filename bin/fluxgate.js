#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources directly: no build step between `npm install` and `npm start`.
require('tsx/cjs');
require('../core/cli/main.ts')
  .main(process.argv)
  .then((code) => { if (typeof code === 'number') process.exitCode = code; })
  .catch((err) => {
    process.stderr.write(`fluxgate: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  });
