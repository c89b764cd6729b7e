import {
  canonicalJson, fluxHandler, rejectRow,
  type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile,
} from '../../core/plugin-api';
import { readEmployee, SAL_REQUIRED } from './employee-row';

const BATCH = 500;
const entityOf = (org: string, ref: string) => `${org}/${ref}`;

/**
 * sal: employees of an exchange account, keyed by (organization_code, registration_reference).
 * Two passes over a staging table rather than memory: rows are validated and staged while the
 * file streams, the same key with different data rejects every such row, then the rest applies
 * in batches. An employee missing from the file is left as it is (never made a leaver).
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
    const staging = ctx.directory.createStaging();
    try {
      let rows = 0;
      for await (const record of ctx.records({ dialect: 'exchange', required: SAL_REQUIRED })) {
        rows++;
        const { checker, employee } = readEmployee(record, organizations);
        const entity = entityOf(employee.organizationCode, employee.registrationReference);
        if (!checker.ok) {
          rejectRow(ctx.report, record.line, checker.problems, employee.registrationReference ? entity : undefined);
          continue;
        }
        staging.add(record.line, JSON.stringify([employee.organizationCode, employee.registrationReference]), canonicalJson(employee));
      }

      const rejectedLines = new Set<number>();
      for (const { key, lines } of staging.conflicts()) {
        const [org, ref] = JSON.parse(key) as [string, string];
        for (const line of lines) {
          rejectedLines.add(line);
          ctx.report.add({
            line, field: 'registration_reference', severity: 'error', code: 'FG_DUP_IN_FILE', entityId: entityOf(org, ref),
            message: `registration_reference ${ref} of organization ${org} appears on lines ${lines.join(', ')} with different data: all these rows are rejected`,
          });
          ctx.report.count('rejected', entityOf(org, ref), line);
        }
      }

      let batch: Array<{ line: number; payload: string }> = [];
      const flush = () => {
        ctx.signal.throwIfAborted();
        ctx.directory.transaction(() => {
          for (const { line, payload } of batch) {
            const employee = JSON.parse(payload) as Parameters<typeof ctx.directory.upsertEmployee>[1];
            const kind = ctx.directory.upsertEmployee(account, employee, { dryRun: !ctx.apply, sourceFile: file.id });
            ctx.report.count(kind, entityOf(employee.organizationCode, employee.registrationReference), line);
          }
        });
        batch = [];
      };
      for (const row of staging.rows()) {
        if (rejectedLines.has(row.line)) continue;
        batch.push(row);
        if (batch.length >= BATCH) flush();
      }
      flush();
      const c = ctx.report.counts;
      return {
        result: 'processed',
        summary: `${rows} rows: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.rejected} rejected`,
      };
    } finally {
      staging.drop();
    }
  }
}
