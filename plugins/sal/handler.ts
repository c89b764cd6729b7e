import { hash } from 'node:crypto';
import {
  canonicalJson, fluxHandler, rejectRow,
  type ChangeKind, type Employee, type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile, type StagingArea, type WriteOptions,
} from '../../core/plugin-api';
import { readEmployee, SAL_REQUIRED } from './employee-row';

/**
 * Rows per transaction. Each commit rewrites the B-tree pages it only partly filled (the
 * table's last leaf, the index leaves rows go to), so small commits write the same pages to
 * the WAL again and again: 200,000 employees wrote 134 MiB of WAL in 500-row commits, 89 MiB
 * in 2,000-row ones, for a 71 MiB database. Bigger ones hold the write lock and the event loop
 * longer (a 2,000-row commit: 10-20 ms) and outgrow SQLite's page cache (2 MiB).
 */
export const BATCH_ROWS = 2000;
// Internal key: NUL cannot occur in a value; reports show organization/registration_reference.
const keyOf = (org: string, ref: string) => `${org}\u0000${ref}`;
const shown = (org: string, ref: string) => `${org}/${ref}`;
const split = (key: string) => key.split('\u0000') as [string, string];

/** A digest tells a repeated row (same data) from a conflicting one without keeping the row. */
const digest = (text: string): string => hash('sha1', text, 'base64');

/** The batch entry of log index `index`, if it is still waiting to be applied (batches are in index order). */
function pendingRow<T extends { index: number }>(batch: readonly T[], index: number): T | undefined {
  let lo = 0;
  let hi = batch.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = batch[mid]!.index;
    if (at === index) return batch[mid];
    if (at < index) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * What happened to each valid row, kept compactly until the end of the file (arrays, not an
 * object per row): its key as organization and reference (the strings the key index holds).
 * `hashes`: digests of the rows, for dry runs only.
 */
interface RowLog { lines: number[]; orgs: string[]; refs: string[]; hashes: string[]; kinds: Array<ChangeKind | undefined> }

/**
 * The log index of each key's first valid row, by organization then reference: no key string
 * is built per row (a joined key cost a string and its flattening for each of 200,000 rows).
 */
class FirstRows {
  private readonly byOrg = new Map<string, { org: string; refs: Map<string, number> }>();

  /** The first row of (org, ref), or undefined after recording `index` as its first row; `org` is the shared string to log. */
  claim(org: string, ref: string, index: number): { first: number | undefined; org: string } {
    let entry = this.byOrg.get(org);
    if (!entry) this.byOrg.set(org, entry = { org, refs: new Map() });
    const first = entry.refs.get(ref);
    if (first === undefined) entry.refs.set(ref, index);
    return { first, org: entry.org };
  }

  get(org: string, ref: string): number | undefined {
    return this.byOrg.get(org)?.refs.get(ref);
  }
}

/**
 * sal: employees of an exchange account, keyed by (organization_code, registration_reference).
 * Rows apply in batches while the file streams (memory stays flat: one map entry per key, no
 * row kept; a repeated key is compared with its first row as the batch or the directory holds
 * it). The same key with different data rejects every such row: that is rare, so the first
 * occurrence is applied optimistically and undone at the end (deleted if it was created,
 * restored from a staging table if it replaced a row). Counts go to the report at the end.
 * An employee missing from the file is left as it is (never made a leaver).
 */
@fluxHandler({
  flux: 'sal',
  description: 'Employees (exchange sal files)',
  profiles: ['exchange'],
  permissions: { read: ['in/sal'], write: ['out/sal'], network: false },
})
export class SalHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const account = file.accountId;
    const organizations = new Set(ctx.directory.listOrganizations(account).map((o) => o.code));
    const replaced = ctx.directory.createStaging();
    try {
      const log: RowLog = { lines: [], orgs: [], refs: [], hashes: [], kinds: [] };
      const firstRows = new FirstRows();
      // Keys (keyOf) in conflict → their lines.
      const conflicts = new Map<string, number[]>();
      let batch: Array<{ index: number; employee: Employee }> = [];
      let rows = 0;

      for await (const record of ctx.records({ dialect: 'exchange', required: SAL_REQUIRED })) {
        rows++;
        const { checker, employee } = readEmployee(record, organizations);
        const ref = employee.registrationReference;
        if (!checker.ok) {
          rejectRow(ctx.report, record.line, checker.problems, ref ? shown(employee.organizationCode, ref) : undefined);
          continue;
        }
        const index = log.lines.push(record.line) - 1;
        const { first, org } = firstRows.claim(employee.organizationCode, ref, index);
        log.orgs.push(org);
        log.refs.push(ref);
        log.kinds.push(undefined);
        // A dry run writes nothing, so a repeated key is compared with its first row by digest.
        if (!ctx.apply) log.hashes.push(digest(JSON.stringify(employee)));
        if (first === undefined) {
          batch.push({ index, employee });
          if (batch.length >= BATCH_ROWS) batch = this.apply(ctx, account, file.id, batch, log, replaced);
        } else {
          // A repeated key: its first row is either still waiting in the batch or already applied.
          const pending = pendingRow(batch, first);
          const json = JSON.stringify(employee);
          const same = pending ? JSON.stringify(pending.employee) === json : this.sameAsFirst(ctx, account, employee, json, log.hashes[first]);
          const key = keyOf(org, ref);
          if (!conflicts.has(key) && same) {
            log.kinds[index] = 'unchanged'; // the same row again
            continue;
          }
          conflicts.set(key, [...(conflicts.get(key) ?? [log.lines[first]!]), record.line]);
        }
      }
      this.apply(ctx, account, file.id, batch, log, replaced);
      this.undoConflicts(ctx, account, conflicts, firstRows, log, replaced);

      for (let i = 0; i < log.lines.length; i++) {
        const org = log.orgs[i]!;
        const ref = log.refs[i]!;
        const lines = conflicts.size > 0 ? conflicts.get(keyOf(org, ref)) : undefined;
        if (lines) {
          rejectRow(ctx.report, log.lines[i], [{ field: 'registration_reference', code: 'FG_DUP_IN_FILE',
            message: `registration_reference ${ref} of organization ${org} appears on lines ${lines.join(', ')} with different data: all these rows are rejected` }], shown(org, ref));
        } else {
          ctx.report.count(log.kinds[i] ?? 'unchanged', shown(org, ref), log.lines[i]);
        }
      }
      const c = ctx.report.counts;
      return {
        result: 'processed',
        summary: `${rows} rows: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.rejected} rejected`,
      };
    } finally {
      replaced.drop();
    }
  }

  /**
   * Whether a repeated key's row has the same data as its first row, once that row is applied.
   * Applying, the first row is what the directory now holds (written, or found unchanged: equal
   * up to key order), so no digest of every row is needed; a dry run writes nothing and compares
   * digests.
   */
  private sameAsFirst(ctx: FluxContext, account: string, employee: Employee, json: string, firstDigest: string | undefined): boolean {
    if (!ctx.apply) return firstDigest === digest(json);
    const stored = ctx.directory.getEmployee(account, employee.organizationCode, employee.registrationReference);
    return stored !== undefined && canonicalJson(stored) === canonicalJson(employee);
  }

  private apply(ctx: FluxContext, account: string, fileId: string, batch: Array<{ index: number; employee: Employee }>,
    log: RowLog, replaced: StagingArea): [] {
    ctx.signal.throwIfAborted();
    let index = 0;
    // One options object for the batch: no closure per row.
    const options: WriteOptions = {
      dryRun: !ctx.apply, sourceFile: fileId,
      onReplaced: (previous) => replaced.add(log.lines[index]!, keyOf(log.orgs[index]!, log.refs[index]!), previous),
    };
    ctx.directory.transaction(() => {
      for (const row of batch) {
        index = row.index;
        log.kinds[index] = ctx.directory.upsertEmployee(account, row.employee, options);
      }
    });
    return [];
  }

  /** Puts back what the first occurrence of each conflicting key changed. */
  private undoConflicts(ctx: FluxContext, account: string, conflicts: Map<string, number[]>, firstRows: FirstRows,
    log: RowLog, replaced: StagingArea): void {
    if (conflicts.size === 0 || !ctx.apply) return;
    const previous = new Map<string, string>();
    for (const row of replaced.rows()) if (conflicts.has(row.key) && !previous.has(row.key)) previous.set(row.key, row.payload);
    ctx.directory.transaction(() => {
      for (const key of conflicts.keys()) {
        const [org, ref] = split(key);
        const kind = log.kinds[firstRows.get(org, ref)!];
        const employee = JSON.parse(previous.get(key) ?? 'null') as Employee | null;
        if (kind === 'created') {
          ctx.directory.removeEmployee(account, org, ref);
        } else if (kind === 'updated' && employee) {
          ctx.directory.upsertEmployee(account, employee);
        }
      }
    });
  }
}
