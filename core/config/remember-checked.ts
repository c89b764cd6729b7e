import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../atomic-write';
import { fnv1a, keyOf, ownDirectory } from './checked-cache';
import type { ConfigSources } from './config-file';

/** Records kept: enough for every configuration a user works with; each new one beyond drops the least recently written. */
export const KEPT_RECORDS = 64;

/** Records that the configuration `sources` name was checked and gave `dataDir` (best effort: a failure only costs the next command a full check). */
export function rememberChecked(sources: ConfigSources, dataDir: string): void {
  const key = keyOf(sources);
  const dir = key && ownDirectory(true);
  if (!key || !dir) return;
  try {
    writeFileAtomicSync(join(dir, `${fnv1a(key)}.json`), JSON.stringify({ key, dataDir }), { mode: 0o600 });
    pruneRecords(dir);
  } catch {
    // A read-only or full temporary directory: no record, the next command checks in full.
  }
}

/** Each edit of a config file or new build writes a new record: without a bound they would pile up in the temporary directory forever. */
function pruneRecords(dir: string): void {
  const records = readdirSync(dir).filter((name) => name.endsWith('.json'));
  if (records.length <= KEPT_RECORDS) return;
  const byAge = records
    .map((name) => ({ path: join(dir, name), written: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => a.written - b.written);
  for (const { path } of byAge.slice(0, byAge.length - KEPT_RECORDS)) unlinkSync(path);
}
