import type { FluxCounts } from '../plugin-api/outcome';
import type { ReportBuilder, ReportMessage } from '../plugin-api/report';

/** Beyond this, messages are counted but not kept (a report of a broken 200k-row file stays usable). */
export const MAX_REPORT_MESSAGES = 10_000;
/** Info lines (one per created/updated row) have their own, lower cap so they never crowd out errors. */
export const MAX_INFO_MESSAGES = 5_000;

export class CollectingReportBuilder implements ReportBuilder {
  private readonly tally: FluxCounts = { created: 0, updated: 0, unchanged: 0, rejected: 0 };
  private readonly list: ReportMessage[] = [];
  private infos = 0;
  dropped = 0;
  /**
   * The handler ran with `ctx.apply = false` (a test file, version `tst`, in production): it
   * applied nothing, and its counts say what applying the file would have done. Set by the
   * handler step; the report says so (an `applied;no` line, the summary).
   */
  testRun = false;

  add(message: ReportMessage): void {
    const info = message.severity === 'info';
    if (this.list.length - this.infos >= MAX_REPORT_MESSAGES || (info && this.infos >= MAX_INFO_MESSAGES)) {
      this.dropped++;
      return;
    }
    if (info) this.infos++;
    this.list.push({ ...message });
  }

  count(kind: keyof FluxCounts, entityId?: string, line?: number): void {
    this.tally[kind]++;
    // A row rejected before its key was known (a blank key) still gets its line.
    if ((entityId !== undefined || line !== undefined) && kind !== 'unchanged') {
      this.add({ line, severity: kind === 'rejected' ? 'error' : 'info', entityId, message: kind });
    }
  }

  /**
   * Counts and dropped messages tallied elsewhere, with no message (a sandbox's report: what
   * these caps would drop is tallied there, not sent; core/sandbox/child.ts). Anything but a
   * whole number from 0 up is taken as 0: the sandbox is not trusted.
   */
  addTally(counts: Readonly<Partial<Record<keyof FluxCounts, unknown>>>, dropped: unknown): void {
    for (const kind of ['created', 'updated', 'unchanged', 'rejected'] as const) this.tally[kind] += wholeNumber(counts[kind]);
    this.dropped += wholeNumber(dropped);
  }

  get counts(): Readonly<FluxCounts> { return this.tally; }
  get messages(): readonly ReportMessage[] { return this.list; }

  /** Forgets everything (a retried attempt starts a fresh report). */
  reset(): void {
    this.tally.created = this.tally.updated = this.tally.unchanged = this.tally.rejected = 0;
    this.list.length = 0;
    this.infos = 0;
    this.dropped = 0;
    this.testRun = false;
  }
}

function wholeNumber(n: unknown): number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0;
}
