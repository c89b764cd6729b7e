/**
 * What a process's resident memory is made of, from /proc/PID/smaps, sampled from outside (no
 * probe in the process measured): a benchmark calls `sample()` often, and `atPeak()` gives the
 * breakdown taken at the highest RSS seen.
 *
 * Kinds: glibc's main malloc arena (`[heap]`), the node binary's pages, other files' pages
 * (shared libraries, SQLite's files mapped), and anonymous mappings by size: V8 allocates its
 * heap in 256 KiB pages (a large object gets a mapping of its own), glibc's other arenas are
 * 64 MiB reservations, and malloc serves blocks above its mmap threshold with mappings of their
 * own. The V8 heap's committed size itself comes from `--trace-gc` lines (`heapCommittedMiB`).
 */
import { readFileSync } from 'node:fs';

export interface MemoryBreakdown {
  rssKiB: number;
  byKind: Map<string, number>;
}

const ANON_SMALL_KIB = 1024;

function kindOf(name: string, sizeKiB: number, execPath: string): string {
  if (name === '[heap]') return 'glibc main arena [heap]';
  if (name === execPath) return 'node binary';
  if (name.startsWith('/')) return 'other files (libraries, mapped files)';
  if (name === '[stack]' || name.startsWith('[v')) return 'stack, vdso';
  if (name !== '') return name;
  return sizeKiB <= ANON_SMALL_KIB ? 'anonymous mappings <= 1 MiB (V8 pages, thread stacks)' : 'anonymous mappings > 1 MiB (malloc arenas and large blocks, V8 large objects)';
}

/** One reading of /proc/PID/smaps: resident KiB per kind of mapping. */
export function readBreakdown(pid: number, execPath: string): MemoryBreakdown {
  const byKind = new Map<string, number>();
  let rssKiB = 0;
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    // A mapping's header: "start-end perms offset dev inode [name]".
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const sizeKiB = (parseInt(header[2], 16) - parseInt(header[1], 16)) / 1024;
      kind = kindOf(header[3].trim(), sizeKiB, execPath);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const kib = Number(rss[1]);
      rssKiB += kib;
      byKind.set(kind, (byKind.get(kind) ?? 0) + kib);
    }
  }
  return { rssKiB, byKind };
}

/** A one-line summary: the main kinds, MiB each. */
export function describeBreakdown(b: MemoryBreakdown): string {
  return [...b.byKind].sort((x, y) => y[1] - x[1]).filter(([, kib]) => kib >= 512)
    .map(([kind, kib]) => `${(kib / 1024).toFixed(1)} ${kind.replace(/ \(.*\)$/, '')}`).join(', ');
}

function vmRssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** Samples a process's RSS; at each new high, reads its smaps (the expensive part) and keeps it. */
export class PeakBreakdownSampler {
  private peak?: MemoryBreakdown & { heapCommittedMiB?: number };
  private highKiB = 0;

  constructor(private readonly pid: number, private readonly execPath: string, private readonly heapCommittedMiB: () => number | undefined) {}

  sample(): void {
    try {
      const kib = vmRssKiB(this.pid);
      if (kib <= this.highKiB) return;
      this.highKiB = kib;
      this.peak = { ...readBreakdown(this.pid, this.execPath), heapCommittedMiB: this.heapCommittedMiB() };
    } catch {
      // The process ended between two readings: the last breakdown stands.
    }
  }

  /** Lines describing the breakdown at the highest RSS sampled. */
  report(): string[] {
    const p = this.peak;
    if (!p) return ['no memory sample'];
    const mib = (kib: number): string => `${(kib / 1024).toFixed(1).padStart(6)} MiB`;
    const lines = [`RSS at the sampled peak ${mib(p.rssKiB)} (smaps), of which:`];
    for (const [kind, kib] of [...p.byKind].sort((a, b) => b[1] - a[1])) if (kib >= 512) lines.push(`  ${mib(kib)}  ${kind}`);
    if (p.heapCommittedMiB !== undefined) lines.push(`  V8 heap committed at the last GC before it (--trace-gc): ${p.heapCommittedMiB.toFixed(1)} MiB (within the anonymous mappings)`);
    return lines;
  }
}
