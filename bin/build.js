'use strict';
/**
 * Compiles the TypeScript sources of the server (core/, plugins/) into dist/, one JavaScript
 * file per source, with esbuild (the compiler tsx itself uses, so the code runs the same).
 *
 * Why: running the sources through tsx costs every process its loader and each module's inline
 * source map, kept in memory. Measured: the idle server 105 MB RSS through tsx, 91-94 MB
 * compiled; `fluxgate account list` 0.52 s and 102 MB against 0.34 s and 85 MB.
 * `bin/fluxgate.js` calls ensureBuilt() at every start, which rebuilds only when a source is
 * newer than the last build (a stat of each source to check, about 0.15 s to rebuild), so
 * there is still no build step between `npm install` and `npm start`, and an edited source is
 * never run stale. `npm run build` forces one. Source maps are written beside the files
 * (`node --enable-source-maps` maps stack traces to the .ts lines).
 */
const { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const BUILDS = join(ROOT, '.dist');
const SOURCE_DIRS = ['core', 'plugins'];
const STAMP = '.sources.json';

/** The sources to compile: every .ts file under core/ and plugins/ but tests and declarations. */
function sources() {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(ROOT, dir));
  return out.sort();
}

/** What a build was made from: the file list and the newest modification time. */
function fingerprint(files) {
  let newest = statSync(join(ROOT, 'tsconfig.json')).mtimeMs;
  for (const file of files) newest = Math.max(newest, statSync(file).mtimeMs);
  return { files: files.map((f) => relative(ROOT, f)), newest };
}

function isFresh(print) {
  try {
    const built = JSON.parse(readFileSync(join(DIST, STAMP), 'utf8'));
    return built.newest === print.newest && built.files.length === print.files.length && built.files.every((f, i) => f === print.files[i]);
  } catch {
    return false;
  }
}

function build(files, print) {
  const esbuild = require('esbuild');
  // Each build goes to its own directory under .dist/; dist is a symbolic link to the current one,
  // replaced in one rename. A process that is loading modules meanwhile keeps reading the build it
  // started with (Node resolves the link once: the modules' paths are the build's own).
  const id = `${Date.now().toString(36)}-${process.pid}`;
  const out = join(BUILDS, id);
  esbuild.buildSync({
    entryPoints: files,
    outdir: out,
    outbase: ROOT,
    bundle: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
    tsconfig: join(ROOT, 'tsconfig.json'),
  });
  writeFileSync(join(out, STAMP), JSON.stringify(print));
  const link = `${DIST}.${process.pid}.link`;
  rmSync(link, { force: true });
  symlinkSync(join('.dist', id), link);
  // A dist/ directory from before builds were linked is moved aside first.
  if (existsSync(DIST) && !lstatSync(DIST).isSymbolicLink()) rmSync(DIST, { recursive: true, force: true });
  renameSync(link, DIST);
  // Older builds go, but the two before this one stay for processes still running on them.
  const builds = readdirSync(BUILDS).filter((name) => name !== id).sort();
  for (const name of builds.slice(0, -2)) rmSync(join(BUILDS, name), { recursive: true, force: true });
}

/**
 * dist/ up to date with the sources, built if needed. Returns false when it cannot be built
 * (no esbuild, a read-only checkout): the caller then runs the sources through tsx.
 */
function ensureBuilt({ force = false } = {}) {
  try {
    const files = sources();
    const print = fingerprint(files);
    if (!force && isFresh(print)) return true;
    mkdirSync(BUILDS, { recursive: true });
    build(files, print);
    return true;
  } catch (err) {
    if (force) throw err;
    process.emitWarning(`fluxgate: cannot compile the sources into dist/ (${err.message}); running them through tsx`);
    return false;
  }
}

module.exports = { ensureBuilt, DIST, ROOT };

if (require.main === module) {
  const started = Date.now();
  ensureBuilt({ force: true });
  process.stdout.write(`compiled ${sources().length} files into dist/ in ${Date.now() - started} ms\n`);
}
