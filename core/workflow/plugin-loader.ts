import { readFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';
import { PACKAGE_ROOT } from '../config/package-root';

/**
 * Loading plugin modules (config `plugins:`), through Node's documented module hooks
 * (`module.registerHooks`), registered when the first plugin module loads:
 *
 * - `fluxgate` and `fluxgate/…` resolve to this server's own package (its `exports`: dist/),
 *   wherever the plugin lives and whatever copy its own node_modules holds: a plugin gets the
 *   modules the server runs (one FileRejection class, one manifest registry).
 * - A `.ts` module is compiled to CommonJS with esbuild (decorators included, which Node's own
 *   type stripping does not do), in memory: nothing is written anywhere.
 * - A TypeScript import without an extension (`./handler`) finds `handler.ts` or `handler/index.ts`.
 * - A plugin importing the server's TypeScript sources by path (`../../core/plugin-api`) gets
 *   their compiled copy in dist/ instead of a second, separate instance.
 *
 * Built-in code never goes through the compiler: it is loaded from dist/ as plain JavaScript.
 */
const TYPESCRIPT = /\.[cm]?ts$/;
const RUNNING_COMPILED = __filename.endsWith('.js');
const SOURCE_DIRS = ['core', 'plugins'];

let registered = false;
let esbuild: typeof Esbuild | undefined;

function isOwnSource(file: string): boolean {
  const rel = relative(PACKAGE_ROOT, file);
  return SOURCE_DIRS.some((dir) => rel.startsWith(`${dir}${sep}`));
}

/**
 * esbuild, set to run one esbuild process per compiled module: its default for synchronous calls,
 * a worker thread, left ~8 MiB in the server's RSS for good (measured: idle `serve` with the dse
 * example 115 MiB instead of 107; without plugins 106). It reads the setting when it loads.
 */
export function loadEsbuild(): typeof Esbuild {
  const before = process.env.ESBUILD_WORKER_THREADS;
  process.env.ESBUILD_WORKER_THREADS = '0';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded synchronously, with the setting above in place
    return require('esbuild') as typeof Esbuild;
  } finally {
    if (before === undefined) delete process.env.ESBUILD_WORKER_THREADS;
    else process.env.ESBUILD_WORKER_THREADS = before;
  }
}

function compile(url: string): string {
  esbuild ??= loadEsbuild();
  const file = fileURLToPath(url);
  return esbuild.transformSync(readFileSync(file, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    sourcefile: file,
    sourcemap: 'inline',
    tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
  }).code;
}

/** Registers the hooks above once per process. */
export function enablePluginLoading(): void {
  if (registered) return;
  registered = true;
  // Resolved from the package itself, so Node uses its `exports` (self-reference). That resolution
  // runs these hooks again: `selfResolving` lets it through to Node's own.
  const fromPackage = createRequire(join(PACKAGE_ROOT, 'package.json'));
  let selfResolving = false;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (!selfResolving && (specifier === 'fluxgate' || specifier.startsWith('fluxgate/'))) {
        selfResolving = true;
        try {
          return { url: pathToFileURL(resolveOwn(fromPackage, specifier)).href, shortCircuit: true };
        } finally {
          selfResolving = false;
        }
      }
      const parent = context.parentURL?.startsWith('file:') ? fileURLToPath(context.parentURL) : undefined;
      let resolved;
      try {
        resolved = nextResolve(specifier, context);
      } catch (err) {
        if (!parent || !TYPESCRIPT.test(parent) || !/^\.{0,2}\//.test(specifier)) throw err;
        resolved = [`${specifier}.ts`, `${specifier}/index.ts`].map((candidate) => {
          try { return nextResolve(candidate, context); } catch { return undefined; }
        }).find((r) => r !== undefined);
        if (!resolved) throw err;
      }
      if (RUNNING_COMPILED && parent && !isOwnSource(parent) && resolved.url.startsWith('file:')) {
        const file = fileURLToPath(resolved.url);
        if (TYPESCRIPT.test(file) && isOwnSource(file)) {
          const compiled = join(PACKAGE_ROOT, 'dist', `${relative(PACKAGE_ROOT, file).replace(TYPESCRIPT, '')}.js`);
          return { url: pathToFileURL(compiled).href, format: 'commonjs', shortCircuit: true };
        }
      }
      return resolved;
    },
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !TYPESCRIPT.test(url)) return nextLoad(url, context);
      return { format: 'commonjs', source: compile(url), shortCircuit: true };
    },
  });
}


/**
 * `fluxgate/…` through the package's `exports`; failing that, the plugin API's entry itself:
 * under Node's permission model (a sandbox) the self-reference lookup is refused even where
 * the files are readable.
 */
function resolveOwn(fromPackage: NodeJS.Require, specifier: string): string {
  try {
    return fromPackage.resolve(specifier);
  } catch (err) {
    if (specifier === 'fluxgate/plugin-api') return join(PACKAGE_ROOT, 'dist', 'core', 'plugin-api', 'index.js');
    if (specifier === 'fluxgate/plugin-api/testing') return join(PACKAGE_ROOT, 'dist', 'core', 'plugin-testing', 'index.js');
    throw err;
  }
}
