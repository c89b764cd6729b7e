import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { FluxgateError } from '../errors';
import { checkConfig, type ConfigCheck } from './check';
import { findConfigFile, type ConfigSources } from './config-file';
import { configSchema, type FluxgateConfig } from './schema';
import { formatProblem } from './yaml-problems';

export interface LoadedConfig {
  config: FluxgateConfig;
  /** The file the configuration came from, or undefined when running on embedded defaults. */
  file?: string;
  dataDir: string;
  workflowsDir: string;
}

export type { ConfigSources } from './config-file';

import { PACKAGE_ROOT } from './package-root';

export { PACKAGE_ROOT };
export { DEFAULT_CONFIG_FILE, findConfigFile } from './config-file';

export function parseConfig(raw: unknown, where = 'config'): FluxgateConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new FluxgateError('FG_CONFIG', `${where} is invalid:\n${lines.join('\n')}`, { issues: result.error.issues });
  }
  return result.data;
}

/** Reads and checks the configuration the sources name (`config check`; loadConfig throws instead). */
export function readConfig(sources: ConfigSources = {}): ConfigCheck & { file?: string } {
  const env = sources.env ?? process.env;
  const file = findConfigFile(sources);
  let text: string | undefined;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new FluxgateError('FG_CONFIG', `cannot read config file ${file}: ${(err as Error).message}`, { file });
    }
  }
  return { ...checkConfig(text, file, env), file };
}

export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const cwd = sources.cwd ?? process.cwd();
  const { config, problems, overrides, file } = readConfig(sources);
  if (!config) {
    const where = file ? `config file ${file}` : 'the configuration (embedded defaults)';
    throw new FluxgateError('FG_CONFIG', `${where} is invalid (check it with: fluxgate config check):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, { problems });
  }
  // Relative paths of a config file are relative to the file's directory (embedded defaults: to
  // the working directory); command-line and environment paths, to the working directory.
  const fileBase = file ? dirname(file) : cwd;
  const fromEnv = overrides.map((o) => o.path.join('.'));
  resolveConfigPaths(config, (key) => (fromEnv.some((p) => key === p || key.startsWith(`${p}.`)) ? cwd : fileBase));
  if (sources.dataDir) config.dataDir = resolve(cwd, sources.dataDir);
  const workflowsDir = config.workflowsDir ?? resolve(PACKAGE_ROOT, 'workflows');
  return { config, file, dataDir: config.dataDir, workflowsDir };
}

/**
 * Every option of the configuration that names a file or directory, made absolute against
 * `base`, or the base `base(key)` gives each (absolute paths are kept). The one place that knows which options are paths: the
 * rest of the server only ever sees absolute ones. README "Configuration" lists them.
 */
export function resolveConfigPaths(config: FluxgateConfig, base: string | ((key: string) => string)): void {
  const baseOf = typeof base === 'string' ? () => base : base;
  const abs = (key: string, p: string): string => (p === '' ? p : resolve(baseOf(key), p));
  config.dataDir = abs('dataDir', config.dataDir);
  if (config.workflowsDir !== undefined) config.workflowsDir = abs('workflowsDir', config.workflowsDir);
  config.plugins = config.plugins.map((p) => pluginModule(p, baseOf('plugins')));
  if (config.log.file !== undefined) config.log.file = abs('log.file', config.log.file);
  if (config.sftp.hostKeysDir !== undefined) config.sftp.hostKeysDir = abs('sftp.hostKeysDir', config.sftp.hostKeysDir);
  if (config.http.tls) {
    config.http.tls.cert = abs('http.tls.cert', config.http.tls.cert);
    config.http.tls.key = abs('http.tls.key', config.http.tls.key);
  }
  if (config.pgp.privateKeyFile !== undefined) config.pgp.privateKeyFile = abs('pgp.privateKeyFile', config.pgp.privateKeyFile);
  for (const [flux, target] of Object.entries(config.forward)) {
    if (target.directory !== undefined) target.directory = abs(`forward.${flux}.directory`, target.directory);
  }
}

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(\/[^/].*)?$/;

/**
 * A `plugins:` entry: a path (made absolute against `base`), or an npm package name
 * (`fluxgate-plugin-abc`, `@acme/fluxgate-abc`) when no file of that name is there, resolved
 * from `base` as Node resolves it (its `main`/`exports`). A name that resolves nowhere is kept
 * as it is: loading it then fails with FG_PLUGIN_INVALID naming it.
 */
export function pluginModule(entry: string, base: string): string {
  if (entry === '' || isAbsolute(entry)) return entry;
  const local = resolve(base, entry);
  if (entry.startsWith('.') || !PACKAGE_NAME.test(entry) || existsSync(local)) return local;
  try {
    return createRequire(join(base, 'fluxgate-config.js')).resolve(entry);
  } catch {
    return entry;
  }
}
