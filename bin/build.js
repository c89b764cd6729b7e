'use strict';
/**
 * The build, made once: compiles the TypeScript sources of the server (core/, plugins/) into
 * dist/, one JavaScript file per source, with esbuild, and emits the plugin API's type
 * declarations (dist/core/plugin-api/*.d.ts, what `fluxgate/plugin-api` gives TypeScript) with tsc.
 *
 * Run by `npm install` (the `prepare` script), `npm run build`, and `npm test` when a source is
 * newer than the build. `fluxgate` itself only runs dist/ and writes nothing under the install
 * (a read-only install works): see bin/fluxgate.js.
 *
 * Why compiled: running the sources through tsx costs every process its loader and each
 * module's inline source map. Measured on Node 20: the idle server 105 MB RSS through tsx,
 * 91-94 MB compiled; `fluxgate account list` 0.52 s and 102 MB against 0.34 s and 85 MB.
 * Source maps are written beside the files (`node --enable-source-maps` maps stack traces to
 * the .ts lines).
 */
const { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const SOURCE_DIRS = ['core', 'plugins'];
const CONFIGS = ['tsconfig.json', 'tsconfig.plugin-api.json', 'package.json'];
const STAMP = '.sources.json';
/** Files copied as they are beside the compiled code (the console's stylesheet and script). */
const ASSET_DIRS = ['core/http/console/assets'];

function assets() {
  return ASSET_DIRS.flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => join(ROOT, dir, name))).sort();
}

/** What a build is made of: every .ts file under core/ and plugins/ but tests and declarations, then the assets. */
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
  return [...out.sort(), ...assets()];
}

/** What a build is made from: the file list and the newest modification time. */
function fingerprint(files) {
  let newest = 0;
  for (const file of [...CONFIGS.map((c) => join(ROOT, c)), ...files]) newest = Math.max(newest, statSync(file).mtimeMs);
  return { files: files.map((f) => relative(ROOT, f)), newest };
}

/**
 * Why dist/ does not match the sources (missing, a source added, removed or changed since), or
 * undefined when it does. Only stats files: cheap enough for every `fluxgate` start.
 */
function staleReason() {
  let built;
  try {
    built = JSON.parse(readFileSync(join(DIST, STAMP), 'utf8'));
  } catch {
    return 'dist/ has not been built';
  }
  const print = fingerprint(sources());
  const builtFiles = new Set(built.files);
  const printFiles = new Set(print.files);
  const added = print.files.find((f) => !builtFiles.has(f));
  if (added) return `${added} is not in dist/`;
  const removed = built.files.find((f) => !printFiles.has(f));
  if (removed) return `${removed} was removed since dist/ was built`;
  if (print.newest > built.newest) return 'a source changed since dist/ was built';
  return undefined;
}

/** The plugin API's declarations, into `outDir`; false (and why, on stderr) when tsc is absent. */
function emitDeclarations(outDir) {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc');
  } catch {
    process.stderr.write('fluxgate build: typescript is not installed (npm install --omit=dev?): no type declarations for fluxgate/plugin-api\n');
    return false;
  }
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.plugin-api.json'), '--outDir', outDir], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`tsc could not emit the plugin API's declarations:\n${run.stdout}${run.stderr}`);
  return true;
}

/** Compiles into a new directory, then puts it in dist/'s place. */
function build() {
  const esbuild = require('esbuild');
  const all = sources();
  const files = all.filter((f) => f.endsWith('.ts'));
  const print = fingerprint(all);
  const next = join(ROOT, `.dist-next-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next);
  try {
    esbuild.buildSync({
      entryPoints: files,
      outdir: next,
      outbase: ROOT,
      bundle: false,
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      sourcemap: 'linked',
      logLevel: 'error',
      tsconfig: join(ROOT, 'tsconfig.json'),
    });
    for (const dir of ASSET_DIRS) cpSync(join(ROOT, dir), join(next, dir), { recursive: true });
    emitDeclarations(next);
    writeFileSync(join(next, STAMP), JSON.stringify(print));
    const old = join(ROOT, `.dist-old-${process.pid}`);
    // dist may be a directory, or the symbolic link of the builds made at start-up before 0.2.
    if (existsSync(DIST) || isLink(DIST)) renameSync(DIST, old);
    renameSync(next, DIST);
    rmSync(old, { recursive: true, force: true });
    rmSync(join(ROOT, '.dist'), { recursive: true, force: true });
  } finally {
    rmSync(next, { recursive: true, force: true });
  }
  return files.length;
}

function isLink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Builds when dist/ does not match the sources; returns what was done, for the caller to print. */
function buildIfStale() {
  const reason = staleReason();
  if (!reason) return undefined;
  const started = Date.now();
  const count = build();
  return `compiled ${count} files into dist/ in ${Date.now() - started} ms (${reason})`;
}

module.exports = { build, buildIfStale, staleReason, DIST, ROOT };

if (require.main === module) {
  const started = Date.now();
  const count = build();
  process.stdout.write(`compiled ${count} files into dist/ in ${Date.now() - started} ms\n`);
}
