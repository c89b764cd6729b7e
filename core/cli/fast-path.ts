import { checkedDataDir } from '../config/checked-cache';
import type { ConfigSources } from '../config/config-file';
import { DataPaths } from '../config/paths';
import { JournalRepository } from '../store/journal-repository';
import { openDatabaseToRead } from '../store/read-only-database';
import { showFile } from './commands/files-show';

/**
 * `fluxgate files show ID [--json]` without the full CLI: no commander, no configuration
 * schemas, no YAML parser, ~100 ms less of a command whose query takes a millisecond
 * (docs/benchmarks.md, bench:journal). It runs only when the configuration was checked before
 * and nothing it read changed (config/checked-cache.ts) and the file is found; anything else
 * (another form of the arguments, a first run, an error to report) goes the usual way, which
 * prints the same output and the same errors.
 */

interface FastShow { sources: ConfigSources; id: string; json: boolean }

/** The arguments (after node and the script) when they are exactly a `files show`, else undefined. */
export function fastShowArgs(args: readonly string[]): FastShow | undefined {
  const sources: ConfigSources = {};
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i += 2) {
    if (args[i] === '--config' && i + 1 < args.length) sources.configFile = args[i + 1];
    else if (args[i] === '--data-dir' && i + 1 < args.length) sources.dataDir = args[i + 1];
    else return undefined;
  }
  if (args[i] !== 'files' || args[i + 1] !== 'show') return undefined;
  const rest = args.slice(i + 2);
  const json = rest.includes('--json');
  const positional = rest.filter((a) => a !== '--json');
  if (positional.length !== 1 || positional[0].startsWith('-') || rest.length - positional.length > 1) return undefined;
  return { sources, id: positional[0], json };
}

/** Runs `files show` the short way when it can; returns false when the full CLI must run it. */
export function runFastPath(args: readonly string[], out: NodeJS.WritableStream = process.stdout): boolean {
  const show = fastShowArgs(args);
  const dataDir = show && checkedDataDir(show.sources);
  if (!show || !dataDir) return false;
  let db;
  try {
    // Read as it is: a store that is missing or without the tables fails, and the full CLI then
    // makes or migrates it (migrations' write transactions would also wait behind a busy server).
    db = openDatabaseToRead(new DataPaths(dataDir).database);
    const lines: string[] = [];
    showFile(new JournalRepository(db), show.id, show.json, {
      print: (line = '') => { lines.push(`${line}\n`); },
      printJson: (value) => { lines.push(`${JSON.stringify(value, null, 2)}\n`); },
    });
    out.write(lines.join(''));
    return true;
  } catch {
    // Not found, or the store cannot be opened: the full CLI says why, as always.
    return false;
  } finally {
    db?.close();
  }
}
