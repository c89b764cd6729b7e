import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findConfigFile, type ConfigSources } from './config-file';

/**
 * A record of configurations already checked: the data directory a valid configuration gave,
 * keyed by everything the check read (the config file's path and text, the FLUXGATE_*
 * variables, the working directory, --data-dir, the checking code itself). It lets a short
 * command (`fluxgate files show`) skip loading the schemas and the YAML parser, ~100 ms of its
 * start (docs/benchmarks.md): a configuration changed in any way is checked again in full.
 *
 * Kept per user under the temporary directory (never in the install, which may be read-only),
 * in a directory only that user can write; anything unexpected there is ignored. Recorded by
 * remember-checked.ts (the full CLI), read here (the short way, which loads nothing more).
 */
const cacheDir = (): string => join(tmpdir(), `fluxgate-${process.getuid?.() ?? 'user'}`, 'checked-config');

/** FNV-1a, 32 bits: names the record; the record holds the whole key, compared in full (node:crypto costs more to load than this saves). */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** What was read to check a configuration; undefined when the config file cannot be read. */
export function keyOf(sources: ConfigSources): string | undefined {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  try {
    const file = findConfigFile(sources);
    const text = file === undefined ? null : readFileSync(file, 'utf8');
    const vars = Object.keys(env).filter((k) => k.startsWith('FLUXGATE_')).sort().map((k) => [k, env[k]]);
    // The checking code: a changed schema (a new build, an edited source) checks everything again.
    const code = readdirSync(__dirname).map((f) => `${f}:${statSync(join(__dirname, f)).mtimeMs}`);
    return JSON.stringify({ file, text, vars, cwd, dataDir: sources.dataDir ?? null, code });
  } catch {
    return undefined;
  }
}

/** The user's own cache directory, or undefined when it is not (someone else's, or writable by others). */
export function ownDirectory(create: boolean): string | undefined {
  const dir = cacheDir();
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = statSync(dir);
    const mine = process.getuid === undefined || stat.uid === process.getuid();
    return stat.isDirectory() && mine && (stat.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The data directory of a configuration checked before and unchanged since, if any. */
export function checkedDataDir(sources: ConfigSources): string | undefined {
  const dir = ownDirectory(false);
  const key = dir && keyOf(sources);
  if (!dir || !key) return undefined;
  try {
    const entry = JSON.parse(readFileSync(join(dir, `${fnv1a(key)}.json`), 'utf8')) as { key?: unknown; dataDir?: unknown };
    if (entry.key !== key) return undefined;
    return typeof entry.dataDir === 'string' && entry.dataDir !== '' ? resolve(entry.dataDir) : undefined;
  } catch {
    return undefined;
  }
}
