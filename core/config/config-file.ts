import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FluxgateError } from '../errors';

/** Where the configuration comes from. A module of its own, light to load (the CLI's fast path needs it, not the schemas). */
export interface ConfigSources {
  configFile?: string;
  dataDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
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
