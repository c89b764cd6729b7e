import { hash } from 'node:crypto';
import {
  fluxHandler, rejectRow,
  type ChangeKind, type DirectoryOp, type Employee, type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile, type WriteOptions,
} from '../../core/plugin-api';
import { readEmployee, SAL_REQUIRED } from './employee-row';
import { RowLog } from './row-log';

/**
 * Rows per batch (a transaction on SQLite, a COPY on PostgreSQL). On SQLite each commit
 * rewrites the B-tree pages it only partly filled, so small commits write the same pages to the
 * WAL again and again (200,000 employees: 134 MiB of WAL in 500-row commits, 89 MiB in 2,000-row
 * ones, for a 71 MiB database). But a batch's rows live until the store answers, while the next
 * rows are read: 2,000-row batches outlived V8's young-generation collections on PostgreSQL and
 * were copied and promoted (docs/cluster.md, "bench:sal on PostgreSQL"). 1,000 halves that and
 * left bench:sal on SQLite, sandboxed or not, where it was.
 */
export const BATCH_ROWS = 1000;
/**
 * Batches sent before the previous one has settled: the engine has the next batch to apply
 * when it finishes one (in a sandbox, the two processes then never wait for each other).
 */
const BATCHES_AHEAD = 2;
// Internal key: NUL cannot occur in a value; reports show organization/registration_reference.
const keyOf = (org: string, ref: string) => `${org}\u0000${ref}`;
const shown = (org: string, ref: string) => `${org}/${ref}`;
const split = (key: string) => key.split('\u0000') as [string, string];

/** A digest tells a repeated row (same data) from a conflicting one without keeping the row. */
const digest = (text: string): string => hash('sha1', text, 'base64');

/** A valid row waiting for its batch: its index in the RowLog. */
interface PendingRow { index: number; employee: Employee }

/** One file's state while it applies. `conflicts`: keys (keyOf) in conflict → their lines. */
interface SalRun {
  ctx: FluxContext; fileId: string; log: RowLog; firstRows: FirstRows;
  conflicts: Map<string, number[]>;
}

/**
 * The log index of each key's first valid row, built only when needed: a row whose key is
 * new to the directory is the first of its key (an earlier row of the file would have added
 * it), so a file of new employees never consults it. Indexed by organization, then reference:
 * no joined key string per row.
 */
class FirstRows {
  private readonly byOrg = new Map<string, Map<string, number>>();
  /** Log entries below this are indexed. */
  private indexed = 0;

  constructor(private readonly log: RowLog) {}

  /** The log index of the first row with the key of row `index` (`index` itself for a first occurrence). */
  firstOf(index: number): number {
    const { log } = this;
    for (; this.indexed <= index; this.indexed++) {
      const org = log.org(this.indexed);
      let byRef = this.byOrg.get(org);
      if (!byRef) this.byOrg.set(org, byRef = new Map<string, number>());
      const ref = log.ref(this.indexed);
      if (!byRef.has(ref)) byRef.set(ref, this.indexed);
    }
    return this.byOrg.get(log.org(index))!.get(log.ref(index))!;
  }

  /** The first row of (org, ref), for keys seen through firstOf. */
  get(org: string, ref: string): number | undefined {
    return this.byOrg.get(org)?.get(ref);
  }
}

/**
 * sal: employees of an exchange account, keyed by (organization_code, registration_reference).
 * Rows apply in batches (ctx.directory.batch: one engine round trip each, which is what makes
 * the handler fast in a sandbox) while the file streams: the next rows are read while the
 * engine applies a batch, with up to BATCHES_AHEAD batches sent. Memory stays flat: a few numbers and the key
 * per row, no row kept; a repeated key is compared with its first row as the directory holds
 * it). The same key with different data rejects every such row: that is rare, so the first
 * occurrence is applied optimistically and undone at the end (deleted if it was created,
 * restored if it replaced a row). Counts go to the report at the end. An employee missing from
 * the file is left as it is (never made a leaver).
 *
 * The rows it replaces are kept in the database (WriteOptions.keepPrevious: in the batch's
 * transaction), so the retry of a file killed part way can still undo a key whose first row the
 * killed attempt applied. They are forgotten when the undo commits (same transaction: a retry
 * after that point re-applies and undoes again from what it keeps itself), and when a fresh run
 * begins (attempt 1: the file was just received or replayed). The latter matters after a run
 * that never finished (the file went dead): what it kept is from before changes other files made
 * since, and must never be restored by a replay; attempts 2 and later need what attempt 1 kept.
 */
@fluxHandler({
  apiVersion: 2,
  flux: 'sal',
  description: 'Employees (exchange sal files)',
  profiles: ['exchange'],
  permissions: { read: ['in/sal'], write: ['out/sal'], network: false },
})
export class SalHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const organizations = new Set((await ctx.directory.listOrganizations()).map((o) => o.code));
    if (ctx.apply && ctx.attempt === 1) await ctx.directory.forgetPrevious(file.id);
    const log = new RowLog();
    const run: SalRun = { ctx, fileId: file.id, log, firstRows: new FirstRows(log), conflicts: new Map() };
    let batch: PendingRow[] = [];
    // Batches being applied while the next rows are read (at most BATCHES_AHEAD), each settling after the one before.
    const applying: Array<Promise<void>> = [];
    let settled: Promise<void> = Promise.resolve();
    let rows = 0;
    // The organization code of the previous row: the log shares one string per organization.
    let org = '';
    // Every record of a file shares its header's columns.
    let columns: Readonly<Record<string, number>> = {};

    for await (const record of ctx.records({ dialect: 'exchange', required: SAL_REQUIRED })) {
      if (rows++ === 0) columns = record.columns;
      const { checker, employee } = readEmployee(record, organizations);
      const ref = employee.registrationReference;
      if (!checker.ok) {
        rejectRow(ctx.report, record.line, checker.problems, ref ? shown(employee.organizationCode, ref) : undefined);
        continue;
      }
      if (employee.organizationCode !== org) org = employee.organizationCode;
      // A dry run writes nothing, so a repeated key is compared with its first row by digest.
      const index = log.add(record.line, org, ref, ctx.apply ? undefined : digest(JSON.stringify(employee)));
      batch.push({ index, employee });
      if (batch.length >= BATCH_ROWS) {
        if (applying.length >= BATCHES_AHEAD) await applying.shift();
        settled = this.apply(run, batch, settled);
        // Awaited later or at the end; marked handled meanwhile (a rejection is not "unhandled" while rows are read).
        void settled.catch(() => undefined);
        applying.push(settled);
        batch = [];
      }
    }
    await this.apply(run, batch, settled);
    await this.undoConflicts(run);

    const { conflicts } = run;
    for (let i = 0; i < log.length; i++) {
      const org = log.org(i);
      const ref = log.ref(i);
      const lines = conflicts.size > 0 ? conflicts.get(keyOf(org, ref)) : undefined;
      if (lines) {
        rejectRow(ctx.report, log.line(i), [{ field: 'registration_reference', column: columns.registration_reference, code: 'FG_DUP_IN_FILE',
          message: `registration_reference ${ref} of organization ${org} appears on lines ${lines.join(', ')} with different data: all these rows are rejected` }], shown(org, ref));
      } else {
        ctx.report.count(log.kind(i) ?? 'unchanged', shown(org, ref), log.line(i));
      }
    }
    const c = ctx.report.counts;
    return {
      result: 'processed',
      summary: `${rows} rows: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.rejected} rejected`,
    };
  }

  /**
   * Applies a batch, in file order: first every row as a new key (one directory batch, one
   * transaction: the common case, and all a file of new employees needs); then, if some keys
   * existed, a second directory batch for those rows: the first row of a key updates it (keeping
   * the row it replaces, should the key turn out in conflict later), a repeated key is compared
   * with its first row (the same data: unchanged; different: a conflict, undone at the end) and
   * never written. The two transactions are as two smaller batches would be: a retry after a
   * crash between them finds the created rows as an earlier attempt's (WriteOptions.sourceFile).
   *
   * The creates go at once, before the `previous` batch has settled (its second directory batch
   * may come after them): a create only adds a key that is not there, which the previous batch's
   * updates of existing keys cannot change; all that follows waits for `previous`.
   */
  private async apply(run: SalRun, batch: PendingRow[], previous: Promise<void>): Promise<void> {
    if (batch.length === 0) return previous;
    const { ctx, log } = run;
    ctx.signal.throwIfAborted();
    // One options object for the batch (createEmployee ignores keepPrevious).
    const options: WriteOptions = { dryRun: !ctx.apply, sourceFile: run.fileId, keepPrevious: true };
    const creating = ctx.apply ? ctx.directory.batch(batch.map(({ employee }) => ({ method: 'createEmployee', args: [employee, options] }) as const)) : undefined;
    void creating?.catch(() => undefined); // awaited below, once `previous` has settled
    await previous;
    let known = batch;
    if (creating) {
      const created = await creating;
      known = [];
      for (let i = 0; i < batch.length; i++) {
        if (created[i]) log.setKind(batch[i].index, 'created');
        else known.push(batch[i]);
      }
      if (known.length === 0) return;
    }
    // Each known row with its key's first row, and the place of its answer among `ops` (-1: none asked).
    const ops: DirectoryOp[] = [];
    const checks = known.map(({ index, employee }) => {
      const first = run.firstRows.firstOf(index);
      if (first === index) return { index, employee, first, answer: ops.push({ method: 'updateEmployee', args: [employee, options] }) - 1 };
      // Applying, the first row is what the directory now holds: the store says whether this row would change it (ABSENT_FIELDS merged as for the first).
      if (ctx.apply) return { index, employee, first, answer: ops.push({ method: 'updateEmployee', args: [employee, { dryRun: true }] }) - 1 };
      return { index, employee, first, answer: -1 };
    });
    const answers = await ctx.directory.batch(ops) as Array<ChangeKind | undefined>;
    for (const { index, employee, first, answer } of checks) {
      if (first === index) {
        log.setKind(index, answers[answer] ?? 'created'); // absent: a dry run
        continue;
      }
      const key = keyOf(log.org(index), log.ref(index));
      const lines = run.conflicts.get(key);
      const same = answer >= 0 ? answers[answer] === 'unchanged' : log.hash(first) === digest(JSON.stringify(employee));
      if (lines) lines.push(log.line(index));
      else if (same) log.setKind(index, 'unchanged'); // the same row again
      else run.conflicts.set(key, [log.line(first), log.line(index)]);
    }
  }

  /**
   * Puts back what the first occurrence of each conflicting key changed (`updated` also when an
   * earlier, interrupted attempt of the file made the change: the store kept the row it
   * replaced), and forgets the kept rows in the same batch (one transaction). The kept rows are
   * read in a batch before: only this file's run writes them (an account's files apply one at a time).
   */
  private async undoConflicts({ ctx, fileId, conflicts, firstRows, log }: SalRun): Promise<void> {
    if (!ctx.apply) return;
    const keys = [...conflicts.keys()].map((key) => {
      const [org, ref] = split(key);
      return { org, ref, kind: log.kind(firstRows.get(org, ref)!) };
    });
    const updated = keys.filter((k) => k.kind === 'updated');
    const kept = await ctx.directory.batch(updated.map(({ org, ref }) => ({ method: 'previousEmployee', args: [org, ref, fileId] }) as const));
    const ops: DirectoryOp[] = [];
    for (const { org, ref, kind } of keys) {
      if (kind === 'created') ops.push({ method: 'removeEmployee', args: [org, ref] });
    }
    updated.forEach(({ org, ref }, i) => {
      const previous = kept[i];
      if (previous) ops.push({ method: 'upsertEmployee', args: [previous] });
      // Only a run whose attempt 1 predates keepPrevious (an upgrade in between) has none.
      else ctx.log.warn({ organizationCode: org, registrationReference: ref }, 'sal: no row kept from before this file: the conflicting key keeps its first row');
    });
    ops.push({ method: 'forgetPrevious', args: [fileId] });
    await ctx.directory.batch(ops);
  }
}
