import type { ChangeKind } from '../../core/plugin-api';

/** Rows per chunk (2^12): a chunk's arrays stay small heap objects however long the file. */
const CHUNK_BITS = 12;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;

/**
 * What happened to each valid row of a file, kept until its end: its line, its key as
 * organization and reference, what it did (`kind`) and, in dry runs only, a digest of it.
 * Columns of fixed-size chunks, not an object per row, nor one array per column: a 200,000-entry
 * array grows by copying itself into ever bigger blocks (three times its final size in all,
 * fresh memory each time, every page of it faulted in: ~5,000 page faults for a sal file of
 * 200,000 rows, ~10 µs each on some virtual machines).
 */
export class RowLog {
  private readonly lines: number[][] = [];
  private readonly orgs: string[][] = [];
  private readonly refs: string[][] = [];
  private readonly kinds: Array<Array<ChangeKind | undefined>> = [];
  private readonly hashes: string[][] = [];
  private count = 0;

  /** Rows logged. */
  get length(): number {
    return this.count;
  }

  /** Logs a row (`hash`: in a dry run, for every row or none); its index. */
  add(line: number, org: string, ref: string, hash?: string): number {
    const at = this.count++;
    const chunk = at >>> CHUNK_BITS;
    if ((at & CHUNK_MASK) === 0) {
      this.lines.push([]);
      this.orgs.push([]);
      this.refs.push([]);
      this.kinds.push([]);
      if (hash !== undefined) this.hashes.push([]);
    }
    this.lines[chunk].push(line);
    this.orgs[chunk].push(org);
    this.refs[chunk].push(ref);
    this.kinds[chunk].push(undefined);
    if (hash !== undefined) this.hashes[chunk].push(hash);
    return at;
  }

  line(at: number): number { return this.lines[at >>> CHUNK_BITS][at & CHUNK_MASK]; }
  org(at: number): string { return this.orgs[at >>> CHUNK_BITS][at & CHUNK_MASK]; }
  ref(at: number): string { return this.refs[at >>> CHUNK_BITS][at & CHUNK_MASK]; }
  /** The row's digest (dry runs). */
  hash(at: number): string { return this.hashes[at >>> CHUNK_BITS][at & CHUNK_MASK]; }
  /** What the row did; undefined until known (a row that changed nothing stays so). */
  kind(at: number): ChangeKind | undefined { return this.kinds[at >>> CHUNK_BITS][at & CHUNK_MASK]; }
  setKind(at: number, kind: ChangeKind): void { this.kinds[at >>> CHUNK_BITS][at & CHUNK_MASK] = kind; }
}
