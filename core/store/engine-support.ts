import type { FluxgateConfig } from '../config/schema';
import { redactStoreUrl } from '../config/store-url';
import { FluxgateError } from '../errors';

/**
 * What runs on a PostgreSQL store (`store.url`) so far: the schema (`store migrate`) and the
 * copy of a SQLite install (`store copy`). The repositories are SQLite's only (#20), so `serve`
 * and the commands that read or change the store refuse rather than quietly use the SQLite file
 * beside a configured PostgreSQL.
 * @param what who refuses, e.g. "serve" or "this command".
 */
export function refuseUnbuiltStore(config: FluxgateConfig, what: string): void {
  const url = config.store.url;
  if (url === undefined) return;
  throw new FluxgateError('FG_STORE_UNSUPPORTED',
    `store.url selects PostgreSQL (${redactStoreUrl(url)}), but ${what} on PostgreSQL is not built yet: \`fluxgate store migrate\` and \`fluxgate store copy\` are. Remove store.url (and FLUXGATE_STORE_URL) to use the embedded SQLite store (docs/cluster.md)`,
    { url: redactStoreUrl(url) });
}
