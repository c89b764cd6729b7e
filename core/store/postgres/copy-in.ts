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

/** Fields up to this many code units are written by writeAscii; longer ones by Buffer.write. */
const SHORT_FIELD = 48;
const BACKSLASH = 0x5c;
/** The letter after a backslash for the control characters COPY escapes (\t, \n, \r). */
const CONTROL_ESCAPES: Readonly<Record<number, number>> = { 0x09: 0x74, 0x0a: 0x6e, 0x0d: 0x72 };

/**
 * `value` as COPY field text into `buffer` at `at` if it is all ASCII: the end offset; 0 (the
 * caller then writes it as UTF-8) at its first non-ASCII code unit.
 */
function writeAscii(buffer: Buffer, at: number, value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) return 0;
    const escape = c === BACKSLASH ? BACKSLASH : c < 0x20 ? CONTROL_ESCAPES[c] : undefined;
    if (escape !== undefined) buffer[at++] = BACKSLASH;
    buffer[at++] = escape ?? c;
  }
  return at;
}

/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2). */
const MAX_UTF8_PER_UNIT = 3;
const TAB = 0x09;

/** Buffers of COPYs that PostgreSQL has answered, for the next ones: two, as many as a sal file keeps in flight (a third COPY at once gets a new one). */
const spare: Buffer[] = [];
const SPARE_BUFFERS = 2;
/** A buffer bigger than this (a plugin's very big batch) is left to the garbage collector. */
const SPARE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The rows of one COPY in COPY's text format, each field encoded into one Buffer as it is
 * written: no string per row (a row's concatenation and its flattened copy were ~1 KB of garbage
 * per row) and none per batch (a batch-sized string, two bytes per character as soon as one
 * value is not Latin-1, stayed in V8's heap while PostgreSQL answered and was promoted with the
 * batch); the Buffer is outside the heap. Buffers are reused once their COPY succeeded (copyIn):
 * a new one per batch, held while PostgreSQL answered, stayed allocated until a full GC.
 */
export class CopyText {
  private buffer: Buffer;
  private length = 0;
  private rowCount = 0;

  /** `sizeHint`: the bytes expected (a guess: the buffer doubles when a row does not fit). */
  constructor(sizeHint: number) {
    const at = spare.findIndex((b) => b.length >= sizeHint);
    this.buffer = at >= 0 ? spare.splice(at, 1)[0] : Buffer.allocUnsafe(Math.max(1024, Math.ceil(sizeHint)));
  }

  /** Makes room for `units` more UTF-16 code units of text, escaped or not (3 bytes each at most; an escape is 2 for 1). */
  reserve(units: number): void {
    const room = units * MAX_UTF8_PER_UNIT;
    if (this.length + room <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + room));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  /** Appends text as it is (room reserved first). */
  write(text: string): void {
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /**
   * Appends a value as a field (copyField), and a tab after it unless it ends the row (room
   * reserved first). A short ASCII value is copied code unit by code unit, escapes included:
   * most fields are a few characters, and one `Buffer.write` each (a call into C++, and the
   * escape pattern's test) cost twice as much (~290 ms against ~140 for 200,000 sal rows).
   */
  field(value: string | null, tab = true): void {
    const { buffer } = this;
    let at = this.length;
    if (value === null) {
      buffer[at++] = BACKSLASH;
      buffer[at++] = 0x4e; // N
    } else if (value.length > SHORT_FIELD || !(at = writeAscii(buffer, at, value))) {
      at = this.length + buffer.write(copyField(value), this.length, 'utf8');
    }
    if (tab) buffer[at++] = TAB;
    this.length = at;
  }

  /** Counts the row just written (its last field followed by a newline). */
  endRow(): void {
    this.rowCount++;
  }

  get rows(): number { return this.rowCount; }
  get byteLength(): number { return this.length; }
  /** The text so far (a view of the buffer, not a copy). */
  get bytes(): Buffer { return this.buffer.subarray(0, this.length); }

  /** Hands the buffer on to a later CopyText: only once PostgreSQL has read it all (its COPY answered). */
  reuse(): void {
    if (spare.length < SPARE_BUFFERS && this.buffer.length <= SPARE_MAX_BYTES) spare.push(this.buffer);
    this.buffer = Buffer.alloc(0);
    this.length = 0;
  }
}

/**
 * `COPY … FROM STDIN` of rows already in memory (a CopyText) on `client`, resolving to the number
 * of rows copied. pg-copy-streams' stream is a submittable query of node-postgres, so it queues
 * behind the connection's other statements and runs in its transaction; it finishes once
 * PostgreSQL has answered the COPY. A failing row (a key already there: unique_violation) rejects
 * with PostgreSQL's error, the transaction then aborted as after any failed statement.
 */
export async function copyIn(client: PoolClient, sql: string, text: CopyText): Promise<number> {
  const stream = client.query(copyFrom(sql));
  stream.end(text.bytes);
  await finished(stream);
  // PostgreSQL answered after CopyDone: every byte was written; after an error some may still wait in the socket's queue.
  text.reuse();
  return stream.rowCount;
}
