import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FluxgateError } from '../errors';
import { configSchema, type FluxgateConfig } from './schema';

export interface LoadedConfig {
  config: FluxgateConfig;
  /** The file the configuration came from, or undefined when running on embedded defaults. */
  file?: string;
  dataDir: string;
  workflowsDir: string;
}

export interface ConfigSources {
  configFile?: string;
  dataDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The repository: two levels up from the sources, three from their compiled copy in dist/. */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}
export const DEFAULT_CONFIG_FILE = 'fluxgate.yaml';

/** Finds the config file: `--config`, then FLUXGATE_CONFIG, then ./fluxgate.yaml if present. */
export function findConfigFile(sources: ConfigSources): string | undefined {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const explicit = sources.configFile ?? env.FLUXGATE_CONFIG;
  if (explicit) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) throw new FluxgateError('FG_CONFIG', `config file ${file} does not exist`);
    return file;
  }
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : undefined;
}

export function parseConfig(raw: unknown, where = 'config'): FluxgateConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new FluxgateError('FG_CONFIG', `${where} is invalid:\n${lines.join('\n')}`, { issues: result.error.issues });
  }
  return result.data;
}

export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const file = findConfigFile(sources);
  let raw: unknown = {};
  if (file) {
    try {
      raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new FluxgateError('FG_CONFIG', `cannot read config file ${file}: ${(err as Error).message}`);
    }
  }
  const config = parseConfig(raw, file ?? 'embedded defaults');
  // Relative paths of a config file are relative to the file's directory (embedded defaults: to
  // the working directory); command-line and environment paths, to the working directory.
  const base = file ? dirname(file) : cwd;
  resolveConfigPaths(config, base);
  const dataDirOverride = sources.dataDir ?? env.FLUXGATE_DATA_DIR;
  const dataDir = dataDirOverride ? resolve(cwd, dataDirOverride) : config.dataDir;
  config.dataDir = dataDir;
  const workflowsDir = config.workflowsDir ?? resolve(PACKAGE_ROOT, 'workflows');
  return { config, file, dataDir, workflowsDir };
}

/**
 * Every option of the configuration that names a file or directory, made absolute against
 * `base` (absolute paths are kept). The one place that knows which options are paths: the
 * rest of the server only ever sees absolute ones. README "Configuration" lists them.
 */
export function resolveConfigPaths(config: FluxgateConfig, base: string): void {
  const abs = (p: string): string => (p === '' ? p : resolve(base, p));
  config.dataDir = abs(config.dataDir);
  if (config.workflowsDir !== undefined) config.workflowsDir = abs(config.workflowsDir);
  config.plugins = config.plugins.map(abs);
  if (config.log.file !== undefined) config.log.file = abs(config.log.file);
  if (config.sftp.hostKeysDir !== undefined) config.sftp.hostKeysDir = abs(config.sftp.hostKeysDir);
  if (config.pgp.privateKeyFile !== undefined) config.pgp.privateKeyFile = abs(config.pgp.privateKeyFile);
  for (const target of Object.values(config.forward)) {
    if (target.directory !== undefined) target.directory = abs(target.directory);
  }
}
