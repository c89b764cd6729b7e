import {
  canonicalJson, fluxHandler, looseHeader, rejectRow,
  type ChangeKind, type DirectoryOp, type Employee, type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile, type RowProblem,
} from '../../core/plugin-api';
import { columnOf, DROPBOX_REQUIRED, readDropboxRow, type DropboxRow } from './employee-row';
import { EmployeeIndex } from './employee-index';

/**
 * Rows that say different things about the same e-mail or Employee ID: all of them are
 * rejected, each with a problem on the column (or both columns) it shares with another row.
 */
function conflicts(rows: DropboxRow[]): Map<DropboxRow, RowProblem[]> {
  const out = new Map<DropboxRow, RowProblem[]>();
  for (const [name, label, keyOf] of [['email', 'Email', (r: DropboxRow) => r.email], ['employeeid', 'Employee ID', (r: DropboxRow) => r.employeeId]] as const) {
    const groups = new Map<string, DropboxRow[]>();
    for (const r of rows) {
      const k = keyOf(r)?.toLowerCase();
      if (k) groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const group of groups.values()) {
      if (group.length > 1 && new Set(group.map((r) => canonicalJson(r.employee))).size > 1) {
        for (const r of group) {
          const { field, column } = columnOf(r.checker.record, name);
          const problem = { field, column, code: 'FG_DUP_IN_FILE',
            message: `${label} ${keyOf(group[0])} appears on lines ${group.map((g) => g.line).join(', ')} with different data: all these rows are rejected` };
          out.set(r, [...(out.get(r) ?? []), problem]);
        }
      }
    }
  }
  return out;
}

/**
 * Drop-box employees (Nectar "HRIS SFTP Sync" style): a CSV or XLSX uploaded to `/`.
 * Email and Employee ID both identify an employee. With the account option
 * `deactivateMissing`, the upload is a full sync: known employees absent from it are deactivated.
 */
@fluxHandler({
  apiVersion: 2,
  flux: 'dropbox',
  description: 'Employees of drop-box accounts (CSV or XLSX at the account root)',
  profiles: ['dropbox'],
  // The input arrives through ctx.records(); the handler touches no other file.
  permissions: { read: [], write: [], network: false },
})
export class DropboxHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const rows: DropboxRow[] = [];
    for await (const record of ctx.records({ dialect: 'dropbox', required: DROPBOX_REQUIRED, normalizeHeader: looseHeader })) {
      const row = readDropboxRow(record);
      if (!row.checker.ok) { rejectRow(ctx.report, row.line, row.checker.problems, row.email ?? row.employeeId ?? undefined); continue; }
      rows.push(row);
    }
    const duplicated = conflicts(rows);
    let accepted = rows.filter((r) => {
      const dup = duplicated.get(r);
      if (dup) rejectRow(ctx.report, r.line, dup, r.email!);
      return !dup;
    });
    // The employees the rows name, looked up first (in batches); then all the writes go in one
    // batch (one transaction: the file applies whole or not at all).
    const index = await EmployeeIndex.lookUp(ctx, rows.flatMap((r) => (r.employeeId ? [r.employeeId] : [])),
      rows.flatMap((r) => [r.email!, ...(r.managerEmail ? [r.managerEmail] : [])]));
    // A manager must be an employee of this file (one that is itself accepted) or already known.
    // Rejecting a row can orphan the rows it manages, hence the loop.
    const known = (email: string) => index.byEmail(email) !== undefined;
    for (let changed = true; changed;) {
      const fileEmails = new Set(accepted.map((r) => r.email!));
      const next = accepted.filter((r) => !r.managerEmail || fileEmails.has(r.managerEmail) || known(r.managerEmail));
      changed = next.length !== accepted.length;
      for (const r of accepted) {
        if (next.includes(r)) continue;
        const { field, column } = columnOf(r.checker.record, 'manageremail');
        rejectRow(ctx.report, r.line, [{ field, column, code: 'FG_UNKNOWN_REF',
          message: `${field} is neither an accepted employee of this file nor a known employee` }], r.email!);
      }
      accepted = next;
    }

    const seen = new Set<string>();
    let deactivated = 0;
    const options = { dryRun: !ctx.apply, sourceFile: file.id };
    const ops: DirectoryOp[] = [];
    const rowOf: Array<{ entityId: string; line?: number; leaver?: Employee }> = [];
    for (const r of accepted) {
      // Employee ID first (it survives an e-mail change), then e-mail; a new employee is keyed by what it has.
      const found = (r.employeeId ? index.byTechnicalId(r.employeeId) : undefined) ?? index.byEmail(r.email!);
      const employee: Employee = { ...r.employee, registrationReference: found?.registrationReference ?? r.employeeId ?? r.email! };
      seen.add(employee.registrationReference);
      // Later rows find it as it is now, as they would in the store.
      index.wrote(employee, found);
      ops.push({ method: 'upsertEmployee', args: [employee, options] });
      rowOf.push({ entityId: r.email!, line: r.line });
    }
    const deactivateMissing = ctx.settings.account.options.deactivateMissing === true;
    // A file with no valid row is more likely a broken export than "everyone left".
    if (deactivateMissing && accepted.length > 0) {
      const departureDate = file.receivedAt.toISOString().slice(0, 10);
      for (const e of await ctx.directory.listEmployees()) {
        if (e.organizationCode !== '' || seen.has(e.registrationReference)) continue;
        // An inactive employee is left as it is, unless an interrupted attempt of this file
        // deactivated it: the store then answers `updated` (and writes nothing), as it did.
        if (!e.active && e.departureDate !== departureDate) continue;
        ops.push({ method: 'upsertEmployee', args: [{ ...e, active: false, departureDate }, options] });
        rowOf.push({ entityId: e.email ?? e.registrationReference, leaver: e });
      }
    }
    const kinds = await ctx.directory.batch(ops) as ChangeKind[];
    rowOf.forEach(({ entityId, line, leaver }, i) => {
      if (!leaver) { ctx.report.count(kinds[i], entityId, line); return; }
      if (!leaver.active && kinds[i] === 'unchanged') return;
      ctx.report.add({ severity: 'info', entityId, message: 'not in this full-sync file: deactivated' });
      ctx.report.count(kinds[i], entityId);
      deactivated++;
    });
    const k = ctx.report.counts;
    return {
      result: 'processed',
      summary: `${k.created} created, ${k.updated} updated${deactivated ? ` (${deactivated} deactivated)` : ''}, ${k.unchanged} unchanged, ${k.rejected} rejected`,
    };
  }
}
