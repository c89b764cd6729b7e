/**
 * `store.url` (#20): which engine holds the store. Absent: the embedded SQLite file under
 * dataDir. `postgres://user:password@host:5432/db` (or `postgresql://`): PostgreSQL. The URL
 * carries a password, so it is only ever shown through redactStoreUrl (logs, errors, output).
 */
export const STORE_URL_SCHEMES = ['postgres:', 'postgresql:'] as const;

/** Why `url` is not a store URL (without repeating it: it may hold a password), or undefined when it is one. */
export function storeUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL: expected postgres://user:password@host:5432/database (a password with special characters percent-encoded)';
  }
  if (!(STORE_URL_SCHEMES as readonly string[]).includes(parsed.protocol)) {
    return `the scheme ${JSON.stringify(parsed.protocol.slice(0, 20))} is not one fluxgate stores in: use postgres:// or postgresql:// (leave store.url out for the embedded SQLite file)`;
  }
  if (!parsed.hostname && !parsed.searchParams.has('host')) return 'no host: expected postgres://user:password@host:5432/database';
  if (parsed.pathname.length <= 1) return 'no database name: expected postgres://user:password@host:5432/database';
  return undefined;
}

/** The URL with its password (if any) replaced by `***`: what may appear in logs, errors and output. */
export function redactStoreUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // A password given as a query parameter (?password=…) is a password too.
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '(an unreadable URL)';
  }
}
