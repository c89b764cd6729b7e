import { readFileSync, statSync } from 'node:fs';
import { isSeq, parseDocument, type Document } from 'yaml';
import { writeFileAtomicSync } from '../atomic-write';
import { FluxgateError } from '../errors';
import { checkConfig } from './check';
import { formatProblem } from './yaml-problems';

/**
 * Changes the config file through its YAML document (comments and layout kept), refuses a
 * change that would make it invalid (the file is left as it was), and replaces it atomically.
 */
export function editConfigFile(file: string | undefined, what: string, edit: (doc: Document) => void): void {
  if (!file) {
    throw new FluxgateError('FG_CONFIG', `${what} live in the config file, and there is none: create fluxgate.yaml or give --config FILE`);
  }
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length > 0) throw new FluxgateError('FG_CONFIG', `${file} is not valid YAML: run fluxgate config check`, { file });
  edit(doc);
  const text = doc.toString();
  const check = checkConfig(text, file);
  if (check.problems.length > 0) {
    throw new FluxgateError('FG_CONFIG', `the change would make ${file} invalid, so it was not made: ${check.problems.map(formatProblem).join('; ')}`, { file });
  }
  writeFileAtomicSync(file, text, { mode: statSync(file).mode & 0o777, durable: true });
}

/** A top-level key (`expectations`) or the path to a nested one (`['events', 'webhooks']`). */
type ListPath = string | readonly string[];
const pathOf = (key: ListPath): string[] => (typeof key === 'string' ? [key] : [...key]);

/** Appends an entry to the list at `key` (made if absent, with the maps above it), as a block list. */
export function appendToList(doc: Document, key: ListPath, entry: Record<string, unknown>): void {
  const list = doc.getIn(pathOf(key), true);
  if (!isSeq(list)) {
    doc.setIn(pathOf(key), doc.createNode([entry]));
    return;
  }
  list.flow = false;
  list.add(doc.createNode(entry));
}

/** Removes the entries of the list at `key` for which `match` holds; returns how many. */
export function removeFromList(doc: Document, key: ListPath, match: (entry: Record<string, unknown>) => boolean): number {
  const list = doc.getIn(pathOf(key), true);
  if (!isSeq(list)) return 0;
  let removed = 0;
  for (let i = list.items.length - 1; i >= 0; i--) {
    const item = list.items[i] as { toJSON?: () => unknown } | undefined;
    const value = item && typeof item.toJSON === 'function' ? item.toJSON() : item;
    if (value && typeof value === 'object' && match(value as Record<string, unknown>)) { list.delete(i); removed++; }
  }
  return removed;
}
