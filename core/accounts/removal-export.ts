import { createHash } from 'node:crypto';
import { writeFileAtomicSync, writeFully } from '../atomic-write';

/** One array of an export file: its name and its rows, read afresh on each call. */
export interface ExportSection {
  name: string;
  rows: () => Iterable<Record<string, unknown>>;
}

export interface ExportSummary {
  /** Of the rows only (not of the header, which holds the time of writing). */
  sha256: string;
  /** Rows per section; `events` counts the events nested in the files of a journal. */
  counts: Record<string, number>;
}

const FLUSH_BYTES = 1 << 20;

/**
 * The rows' text, piece by piece, the same for the same rows: what is written, and what the
 * removal hashes again inside its delete transaction to know the rows did not change since.
 */
function* body(sections: readonly ExportSection[], counts: Record<string, number>): Generator<string> {
  for (const [i, section] of sections.entries()) {
    counts[section.name] = 0;
    yield `${i === 0 ? '' : ',\n'}  ${JSON.stringify(section.name)}: [`;
    for (const row of section.rows()) {
      yield `${counts[section.name]++ === 0 ? '\n' : ',\n'}    ${JSON.stringify(row)}`;
      if (Array.isArray(row.events)) counts.events = (counts.events ?? 0) + row.events.length;
    }
    yield counts[section.name] === 0 ? ']' : '\n  ]';
  }
}

/** Hashes the rows as `writeExport` would write them, writing nothing. */
export function hashExport(sections: readonly ExportSection[]): ExportSummary {
  const hash = createHash('sha256');
  const counts: Record<string, number> = {};
  for (const piece of body(sections, counts)) hash.update(piece);
  return { sha256: hash.digest('hex'), counts };
}

/**
 * Writes `{ <header fields>, "<section>": [ rows… ], … }` to `path`, one row per line, streamed
 * (an account may have hundreds of thousands of employees), fsynced and renamed into place: the
 * file is complete or absent, never half written.
 */
export function writeExport(path: string, header: Record<string, unknown>, sections: readonly ExportSection[]): ExportSummary {
  const hash = createHash('sha256');
  const counts: Record<string, number> = {};
  writeFileAtomicSync(path, (fd) => {
    const head = JSON.stringify(header, null, 2);
    let pending = `${head.slice(0, -2)},\n`; // the header's fields, its closing brace left open
    for (const piece of body(sections, counts)) {
      hash.update(piece);
      pending += piece;
      if (pending.length >= FLUSH_BYTES) { writeFully(fd, pending); pending = ''; }
    }
    writeFully(fd, `${pending}\n}\n`);
  }, { mode: 0o640, durable: true });
  return { sha256: hash.digest('hex'), counts };
}
