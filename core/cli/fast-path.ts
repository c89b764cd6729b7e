import { checkedDataDir } from '../config/checked-cache';
import type { ConfigSources } from '../config/config-file';
import { DataPaths } from '../config/paths';
import { MAX_PAGE } from '../store/journal-query';
import { JournalReads } from '../store/journal-reader';
import { FILE_STATES, type FileState } from '../store/journal-types';
import { openDatabaseToRead } from '../store/read-only-database';
import { listQuery, printPage, type ListOptions } from './commands/files-list';
import { showFile } from './commands/files-show';

/**
 * `fluxgate files [filters]` and `fluxgate files show ID` without the full CLI: no commander,
 * no configuration schemas, no YAML parser, ~100 ms less of a command whose query takes a
 * millisecond (docs/benchmarks.md, bench:journal). It runs only when the configuration was
 * checked before and nothing it read changed (config/checked-cache.ts) and the query succeeds;
 * anything else (another form of the arguments, a first run, an error to report) goes the
 * usual way, which prints the same output and the same errors.
 */

type FastQuery =
  | { sources: ConfigSources; command: 'show'; id: string; json: boolean }
  | { sources: ConfigSources; command: 'list'; options: ListOptions };

/** `files` options that take a value, and how the short way reads each (undefined: not this way). */
const LIST_VALUES: Record<string, (value: string, options: ListOptions) => boolean> = {
  '--account': (v, o) => { o.account = v; return true; },
  '--flux': (v, o) => { o.flux = v; return true; },
  '--since': (v, o) => { o.since = v; return true; },
  '--search': (v, o) => { o.search = v; return true; },
  '--cursor': (v, o) => { o.cursor = v; return true; },
  '--state': (v, o) => { o.state = v as FileState; return (FILE_STATES as readonly string[]).includes(v); },
  '--limit': (v, o) => { o.limit = Number(v); return Number.isInteger(o.limit) && o.limit >= 1 && o.limit <= MAX_PAGE; },
};

/** The options of `files` (a page of the journal) in the simple form `--name value`, else undefined. */
function listArgs(rest: readonly string[]): ListOptions | undefined {
  const options: ListOptions = {};
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--json') { options.json = true; continue; }
    const read = LIST_VALUES[rest[i]];
    const value = rest[i + 1];
    if (!read || value === undefined || value.startsWith('-') || !read(value, options)) return undefined;
    i++;
  }
  return options;
}

/** The arguments (after node and the script) when they are exactly a `files` or `files show` query, else undefined. */
export function fastQueryArgs(args: readonly string[]): FastQuery | undefined {
  const sources: ConfigSources = {};
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i += 2) {
    if (args[i] === '--config' && i + 1 < args.length) sources.configFile = args[i + 1];
    else if (args[i] === '--data-dir' && i + 1 < args.length) sources.dataDir = args[i + 1];
    else return undefined;
  }
  if (args[i] !== 'files') return undefined;
  if (args[i + 1] !== 'show') {
    const options = listArgs(args.slice(i + 1));
    return options && { sources, command: 'list', options };
  }
  const rest = args.slice(i + 2);
  const json = rest.includes('--json');
  const positional = rest.filter((a) => a !== '--json');
  if (positional.length !== 1 || positional[0].startsWith('-') || rest.length - positional.length > 1) return undefined;
  return { sources, command: 'show', id: positional[0], json };
}

/** Runs `files` or `files show` the short way when it can; returns false when the full CLI must run it. */
export function runFastPath(args: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): boolean {
  const query = fastQueryArgs(args);
  const dataDir = query && checkedDataDir(query.sources);
  if (!query || !dataDir) return false;
  let db;
  try {
    // Read as it is: a store that is missing or without the tables fails, and the full CLI then
    // makes or migrates it (migrations' write transactions would also wait behind a busy server).
    db = openDatabaseToRead(new DataPaths(dataDir).database);
    const lines: string[] = [];
    const notes: string[] = [];
    const output = {
      print: (line = '') => { lines.push(`${line}\n`); },
      printJson: (value: unknown) => { lines.push(`${JSON.stringify(value, null, 2)}\n`); },
      printNote: (line: string) => { notes.push(`${line}\n`); },
    };
    const journal = new JournalReads(db);
    if (query.command === 'show') {
      const file = journal.get(query.id);
      showFile(query.id, file, file ? journal.events(query.id) : [], query.json, output);
    } else {
      printPage(journal.list(listQuery(query.options)), query.options, output);
    }
    out.write(lines.join(''));
    if (notes.length > 0) err.write(notes.join(''));
    return true;
  } catch {
    // Not found, a bad --since, or the store cannot be opened: the full CLI says why, as always.
    return false;
  } finally {
    db?.close();
  }
}
