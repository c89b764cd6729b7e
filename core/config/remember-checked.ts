import { join } from 'node:path';
import { writeFileAtomicSync } from '../atomic-write';
import { fnv1a, keyOf, ownDirectory } from './checked-cache';
import type { ConfigSources } from './config-file';

/** Records that the configuration `sources` name was checked and gave `dataDir` (best effort: a failure only costs the next command a full check). */
export function rememberChecked(sources: ConfigSources, dataDir: string): void {
  const key = keyOf(sources);
  const dir = key && ownDirectory(true);
  if (!key || !dir) return;
  try {
    writeFileAtomicSync(join(dir, `${fnv1a(key)}.json`), JSON.stringify({ key, dataDir }), { mode: 0o600 });
  } catch {
    // A read-only or full temporary directory: no record, the next command checks in full.
  }
}
