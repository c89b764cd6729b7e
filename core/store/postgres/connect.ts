import { Client, type ClientConfig } from 'pg';
import { redactStoreUrl } from '../../config/store-url';
import { FluxgateError } from '../../errors';

/** How long a connection attempt may take before the server counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A connected node-postgres client for a store URL, or a FluxgateError saying which of the
 * usual failures it is (unreachable, authentication, no such database), naming the server by
 * the URL without its password.
 */
export async function connectPostgres(url: string, options: Pick<ClientConfig, 'application_name'> = {}): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: options.application_name ?? 'fluxgate' });
  // An idle client whose server goes away emits 'error': without a listener it would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw connectionError(err, url);
  }
  return client;
}

/** SQLSTATE classes and node's network errors that mean "cannot reach the server". */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', '57P03']);

export function connectionError(err: unknown, url: string): FluxgateError {
  const where = redactStoreUrl(url);
  const code = (err as { code?: string }).code ?? '';
  const reason = (err as Error).message;
  const details = { url: where, cause: code || undefined };
  // 28P01: invalid_password; 28000: invalid_authorization_specification (pg_hba refused, no such role).
  if (code === '28P01' || code === '28000') {
    return new FluxgateError('FG_STORE_AUTH', `PostgreSQL at ${where} refused the login (${reason}): check the user name and password in the URL, and pg_hba.conf`, details, { cause: err });
  }
  if (code === '3D000') {
    return new FluxgateError('FG_STORE_NO_DATABASE', `PostgreSQL at ${where} has no such database (${reason}): create it first (createdb, or CREATE DATABASE … OWNER …; docs/cluster.md)`, details, { cause: err });
  }
  if (UNREACHABLE.has(code) || /timeout|terminated unexpectedly/i.test(reason)) {
    return new FluxgateError('FG_STORE_UNREACHABLE', `cannot reach PostgreSQL at ${where} (${reason || code}): check the host and port, and that the server runs and accepts TCP connections`, details, { cause: err });
  }
  return new FluxgateError('FG_STORE', `PostgreSQL at ${where} refused the connection (${reason})`, details, { cause: err });
}
