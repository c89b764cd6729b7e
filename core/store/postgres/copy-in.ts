import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** COPY's text format: these characters are written as backslash escapes, NULL as `\N`. */
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value as a field of COPY's text format. */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : value;
}

/**
 * `COPY … FROM STDIN` of one block of text already in memory (rows of copyField joined by tabs,
 * each ending in a newline) on `client`, resolving to the number of rows copied. pg-copy-streams'
 * stream is a submittable query of node-postgres, so it queues behind the connection's other
 * statements and runs in its transaction; it finishes once PostgreSQL has answered the COPY.
 * A failing row (a key already there: unique_violation) rejects with PostgreSQL's error, the
 * transaction then aborted as after any failed statement.
 */
export async function copyIn(client: PoolClient, sql: string, text: string): Promise<number> {
  const stream = client.query(copyFrom(sql));
  stream.end(text);
  await finished(stream);
  return stream.rowCount;
}
