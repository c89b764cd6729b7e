/**
 * Reading a server's V8 `--trace-gc` lines (kept by TestServer.otherOutput): which isolate ran
 * which mark-compact, and when. Each isolate prints under its own address: the main one is the
 * one that printed most before the upload (start-up; `serve` first prints a few lines from the
 * process it replaces by execve, and a worker thread parsed at most the small sir file).
 */
export interface TraceLine { at: number; line: string }

interface MarkCompact { at: number; isolate: string; sizes: string }

const MARK_COMPACT = /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+[\d.]+ ms: Mark-Compact (\S+ \(\S+\) -> \S+ \(\S+\) MB)/;
const ISOLATE = /^\[\d+:(0x[0-9a-f]+)/;

function markCompacts(output: TraceLine[], uploadStart: number): { main?: string; all: MarkCompact[] } {
  const lines = new Map<string, number>();
  for (const o of output) {
    const isolate = o.at < uploadStart ? ISOLATE.exec(o.line)?.[1] : undefined;
    if (isolate) lines.set(isolate, (lines.get(isolate) ?? 0) + 1);
  }
  const main = [...lines].sort((a, b) => b[1] - a[1])[0]?.[0];
  const all = output.flatMap(({ at, line }) => {
    const m = MARK_COMPACT.exec(line);
    return m ? [{ at, isolate: m[1], sizes: m[2] }] : [];
  });
  return { main, all };
}

/**
 * One line on the mark-compacts around a file: the main isolate's last one before `uploadStart`
 * (what set the limit the file starts under), how many ran during the upload and during the
 * processing, and the workers' during the processing.
 */
export function markCompactSummary(output: TraceLine[], uploadStart: number, uploaded: number, done: number): string {
  const { main, all } = markCompacts(output, uploadStart);
  const onMain = all.filter((m) => m.isolate === main);
  const before = onMain.filter((m) => m.at < uploadStart);
  const last = before.at(-1);
  const during = (list: MarkCompact[], from: number, to: number) => list.filter((m) => m.at >= from && m.at < to);
  const inUpload = during(onMain, uploadStart, uploaded);
  const inFile = during(onMain, uploaded, done);
  const workers = during(all.filter((m) => m.isolate !== main), uploaded, done);
  return `mark-compacts: main isolate ${before.length} before the upload (last ${last ? `${last.sizes}, ${((uploadStart - last.at) / 1000).toFixed(1)} s before` : 'none'}), `
    + `${inUpload.length} during it${inUpload.length ? ` (last ${inUpload.at(-1)!.sizes})` : ''}, ${inFile.length} during (b)${inFile.length ? ` (${inFile.map((m) => m.sizes).join('; ')})` : ''}; workers ${workers.length} during (b)`;
}
