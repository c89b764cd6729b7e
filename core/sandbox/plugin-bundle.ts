import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root';
import { FluxgateError } from '../errors';
import type { FluxManifest } from '../plugin-api/manifest';
import { loadEsbuild } from '../workflow/plugin-loader';
import type { PluginBundle } from './protocol';

/** The sandbox's entry: always the built one (a sandbox runs JavaScript only, whatever runs the server). */
export const CHILD_ENTRY = join(PACKAGE_ROOT, 'dist', 'core', 'sandbox', 'child.js');

/**
 * A plugin module compiled into one CommonJS file by the server, before any of it runs: the
 * sandbox may not start esbuild (a child process). Its npm packages stay outside (loaded from
 * its own node_modules in the sandbox), and so do `fluxgate/…` and the server's sources
 * imported by path (the sandbox maps both to the server's dist/: one plugin API instance).
 */
export function bundlePlugin(modulePath: string): PluginBundle {
  const esbuild = loadEsbuild();
  try {
    const out = esbuild.buildSync({
      entryPoints: [modulePath], bundle: true, write: false, platform: 'node', format: 'cjs', target: 'node24',
      packages: 'external', external: [join(PACKAGE_ROOT, 'core', '*'), join(PACKAGE_ROOT, 'plugins', '*')],
      sourcemap: 'inline', logLevel: 'silent', outdir: dirname(modulePath), // external paths stay relative to the module
      tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
    });
    return { filename: modulePath, code: ownSourcesToDist(out.outputFiles[0].text, modulePath) };
  } catch (err) {
    throw new FluxgateError('FG_PLUGIN_INVALID', `cannot compile plugin module ${modulePath}: ${(err as Error).message}`, { module: modulePath });
  }
}

/**
 * A plugin inside the repository may import the server's sources by path (`../../core/plugin-api`):
 * such a require is pointed at the built file in dist/ (the sandbox may not read the sources,
 * and the server's own modules must be the ones it runs: one plugin API instance).
 */
function ownSourcesToDist(code: string, modulePath: string): string {
  return code.replace(/require\("((?:\.{1,2})?\/[^"]+)"\)/g, (whole, specifier: string) => {
    const target = resolve(dirname(modulePath), specifier);
    const rel = relative(PACKAGE_ROOT, target);
    if (!/^(core|plugins)\//.test(rel)) return whole;
    const built = existsSync(`${target}.ts`) ? `${rel}.js` : existsSync(join(target, 'index.ts')) ? join(rel, 'index.js') : undefined;
    return built ? `require(${JSON.stringify(join(PACKAGE_ROOT, 'dist', built))})` : whole;
  });
}

/**
 * What the sandbox may read to load a plugin: the server's built code and packages (never its
 * data directory), and the plugin's own folder: its package root when it has one (its
 * node_modules), else its directory. Symbolic links are granted as the paths they lead to too,
 * which is what Node checks once it has followed them.
 */
export function runtimeReadPaths(modulePath: string): string[] {
  const paths = [join(PACKAGE_ROOT, 'dist'), join(PACKAGE_ROOT, 'node_modules'), join(PACKAGE_ROOT, 'package.json'), pluginRoot(modulePath)];
  return [...new Set(paths.flatMap((p) => {
    try { return [p, realpathSync(p)]; } catch { return [p]; }
  }))];
}

/** The folder of a plugin its sandbox may read: its package root (not the server's), else its directory. */
export function pluginRoot(modulePath: string): string {
  for (let dir = dirname(modulePath); dirname(dir) !== dir; dir = dirname(dir)) {
    if (dir === PACKAGE_ROOT) break; // a plugin inside the server's folder: its own directory only
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return dirname(modulePath);
}

export interface DescribedClass { name: string; manifest: FluxManifest }

/**
 * The handler classes a bundle exports, with their manifests, read by running the module in a
 * sandbox (no file grant, no network, a clean environment): a plugin's code never runs in the
 * server's process, not even to read its manifest.
 */
export function describePlugin(bundle: PluginBundle): DescribedClass[] {
  const read = runtimeReadPaths(bundle.filename);
  const result = spawnSync(process.execPath, [
    '--permission', ...read.map((p) => `--allow-fs-read=${p}`), '--max-old-space-size=256',
    CHILD_ENTRY, 'describe',
  ], { input: JSON.stringify(bundle), env: {}, cwd: '/', encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) {
    const why = result.error?.message ?? (result.stderr.trim().split('\n').slice(-8).join('\n') || `exit ${result.status ?? result.signal}`);
    throw new FluxgateError('FG_PLUGIN_INVALID', `cannot load plugin module ${bundle.filename} in its sandbox: ${why}`, { module: bundle.filename });
  }
  return JSON.parse(result.stdout) as DescribedClass[];
}
