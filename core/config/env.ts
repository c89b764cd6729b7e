import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema } from './schema';
import type { YamlProblem } from './yaml-problems';

/**
 * Configuration keys set from the environment: `FLUXGATE_SFTP__PORT=2022` sets `sftp.port`.
 * A double underscore separates nesting levels; inside a level, `MAX_UPLOAD_BYTES` names
 * `maxUploadBytes`. Values are read as YAML (`2022` a number, `true` a boolean, `[a, b]` a
 * list; quote to keep a string). A variable with `__` in its name is always a config key, so a
 * misspelt one is refused rather than ignored; a single-level one (`FLUXGATE_ENVIRONMENT`)
 * counts only when it names a top-level key, since other FLUXGATE_* variables exist
 * (FLUXGATE_CONFIG, FLUXGATE_PASSWORD…).
 */
export const ENV_PREFIX = 'FLUXGATE_';

/**
 * Variables named otherwise than the rule above (issue #20 names FLUXGATE_STORE_URL, and the
 * pool size goes with it); FLUXGATE_STORE__URL and FLUXGATE_STORE__POOL_SIZE work as well.
 */
const ENV_ALIASES: Record<string, string[]> = { FLUXGATE_STORE_URL: ['store', 'url'], FLUXGATE_STORE_POOL_SIZE: ['store', 'poolSize'] };

export interface EnvOverride {
  variable: string;
  /** The config key path, e.g. ['sftp', 'port']. */
  path: string[];
  value: unknown;
}

/** `maxUploadBytes` → `MAX_UPLOAD_BYTES`: how a key is spelt in a variable name. */
export function envName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

type AnySchema = z.core.$ZodType;

/** Looks through optional/default/prefault wrappers to the schema that holds keys. */
function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (;;) {
    const inner = (s._zod.def as { innerType?: AnySchema }).innerType;
    if (!inner) return s;
    s = inner;
  }
}

type Level =
  | { kind: 'object'; keys: Record<string, AnySchema> }
  | { kind: 'record'; value: AnySchema }
  | { kind: 'leaf' };

function levelOf(schema: AnySchema): Level {
  const s = unwrap(schema);
  const def = s._zod.def as { type: string; shape?: Record<string, AnySchema>; valueType?: AnySchema };
  if (def.type === 'object' && def.shape) return { kind: 'object', keys: def.shape };
  if (def.type === 'record' && def.valueType) return { kind: 'record', value: def.valueType };
  return { kind: 'leaf' };
}

/** The config key path a variable names, or a message saying why it names none. */
function resolvePath(segments: string[]): { path: string[] } | { error: string } {
  let level = levelOf(configSchema);
  const path: string[] = [];
  for (const segment of segments) {
    if (level.kind === 'record') {
      // Free-form keys (forward.<flux>): the flux name, lower case.
      path.push(segment.toLowerCase());
      level = levelOf(level.value);
      continue;
    }
    if (level.kind === 'leaf') return { error: `${path.join('.')} has no sub-keys` };
    const keys = Object.keys(level.keys);
    const key = keys.find((k) => envName(k) === segment);
    if (!key) {
      const where = path.length ? `${path.join('.')} has no key` : 'there is no top-level key';
      return { error: `${where} "${segment}"; the keys are ${keys.map(envName).join(', ')}` };
    }
    path.push(key);
    level = levelOf(level.keys[key]);
  }
  if (level.kind !== 'leaf' && level.kind !== 'record') {
    return { error: `${path.join('.')} is a section; set one of its keys: ${Object.keys(level.keys).map(envName).join(', ')}` };
  }
  return { path };
}

/**
 * The config overrides found in the environment, in variable-name order, and the problems of
 * those that name no key or hold unreadable YAML (located at the variable).
 */
export function envOverrides(env: NodeJS.ProcessEnv): { overrides: EnvOverride[]; problems: YamlProblem[] } {
  const overrides: EnvOverride[] = [];
  const problems: YamlProblem[] = [];
  const topLevel = levelOf(configSchema);
  const topNames = topLevel.kind === 'object' ? Object.keys(topLevel.keys).map(envName) : [];
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(ENV_PREFIX)) continue;
    const rest = variable.slice(ENV_PREFIX.length);
    const alias = ENV_ALIASES[variable];
    if (!alias && !rest.includes('__') && !topNames.includes(rest)) continue;
    const where = `environment variable ${variable}`;
    const found = alias ? { path: alias } : resolvePath(rest.split('__'));
    if ('error' in found) {
      problems.push({ file: where, message: `not a configuration key: ${found.error} (see fluxgate config schema)` });
      continue;
    }
    let value: unknown;
    try {
      value = parseYaml(env[variable] ?? '');
    } catch (err) {
      problems.push({ file: where, key: found.path.join('.'), message: `cannot read the value as YAML: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    overrides.push({ variable, path: found.path, value });
  }
  return { overrides, problems };
}

/** Sets each override's value into a raw (unvalidated) config object, creating sections on the way. */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly EnvOverride[]): Record<string, unknown> {
  for (const { path, value } of overrides) {
    let node = raw;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return raw;
}
