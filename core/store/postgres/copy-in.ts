import type { PoolClient } from 'pg';

/** What node-postgres hands a submittable query: the connection's protocol messages this one sends. */
interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

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
 * each ending in a newline) on `client`, resolving to the number of rows copied. A submittable
 * query of node-postgres (`client.query(submittable)`: the interface pg-copy-streams implements
 * as a stream), so it queues behind the connection's other statements and runs in its transaction.
 * A failing row (a key already there: unique_violation) rejects with PostgreSQL's error, the
 * transaction then aborted as after any failed statement.
 */
export function copyIn(client: PoolClient, sql: string, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let settled = false;
    const submittable = {
      submit(connection: Connection): void { connection.query(sql); },
      handleCopyInResponse(connection: Connection): void {
        connection.sendCopyFromChunk(Buffer.from(text));
        connection.endCopyFrom();
      },
      handleCommandComplete(message: { text?: string }): void { rows = Number(/^COPY (\d+)/.exec(message.text ?? '')?.[1] ?? 0); },
      // node-postgres does not call handleReadyForQuery after an error: the error settles the promise.
      handleError(err: Error): void { if (!settled) { settled = true; reject(err); } },
      handleReadyForQuery(): void { if (!settled) { settled = true; resolve(rows); } },
      handleRowDescription(): void {},
      handleDataRow(): void {},
      handleEmptyQuery(): void {},
      handlePortalSuspended(): void {},
      handleCopyData(): void {},
    };
    (client as unknown as { query(s: typeof submittable): void }).query(submittable);
  });
}
