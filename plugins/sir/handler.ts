import {
  canonicalJson, fluxHandler, rejectRow, RowChecker,
  type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile, type Organization,
} from '../../core/plugin-api';
import { checkParents } from './organization-graph';

interface Row { line: number; organization: Organization; json: string }

/**
 * sir: the organization tree of an exchange account. Organization files are small, so the
 * whole file is read first: a child may come before its parent, and cycles span rows.
 */
@fluxHandler({
  apiVersion: 2,
  flux: 'sir',
  description: 'Organizations (exchange sir files)',
  profiles: ['exchange'],
  permissions: { read: ['in/sir'], write: ['out/sir'], network: false },
})
export class SirHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const byCode = new Map<string, Row[]>();
    let rows = 0;
    // Every record of a file shares its header's columns.
    let columns: Readonly<Record<string, number>> = {};
    for await (const record of ctx.records({ dialect: 'exchange', required: ['organization_code', 'name'] })) {
      if (rows++ === 0) columns = record.columns;
      const c = new RowChecker(record);
      const code = c.text('organization_code', { required: true, max: 64 });
      const organization: Organization = {
        code: code ?? '',
        name: c.text('name', { required: true, max: 255 }) ?? '',
        parentCode: c.text('parent_organization_code', { max: 64 }),
        attributes: {
          description: c.text('description'),
          company_name: c.text('company_name', { max: 50 }),
          contact_firstname: c.text('contact_firstname', { max: 100 }),
          contact_lastname: c.text('contact_lastname', { max: 100 }),
          contact_email: c.email('contact_email', { max: 255 }),
          address1: c.text('address1', { max: 255 }),
          zip_code: c.text('zip_code', { max: 30 }),
          city: c.text('city', { max: 100 }),
          country: c.country('country'),
        },
      };
      if (!c.ok) { rejectRow(ctx.report, record.line, c.problems, code ?? undefined); continue; }
      const list = byCode.get(organization.code) ?? [];
      list.push({ line: record.line, organization, json: canonicalJson(organization) });
      byCode.set(organization.code, list);
    }

    // The same code twice with different data: every such row is rejected.
    const incoming = new Map<string, Row>();
    for (const [code, list] of byCode) {
      if (new Set(list.map((r) => r.json)).size > 1) {
        const lines = list.map((r) => r.line);
        for (const r of list) {
          rejectRow(ctx.report, r.line, [{ field: 'organization_code', column: columns.organization_code, code: 'FG_DUP_IN_FILE',
            message: `organization_code ${code} appears on lines ${lines.join(', ')} with different data: all these rows are rejected` }], code);
        }
      } else {
        incoming.set(code, list[0]);
        for (const dup of list.slice(1)) ctx.report.count('unchanged', code, dup.line);
      }
    }

    const existing = new Map((await ctx.directory.listOrganizations()).map((o) => [o.code, o.parentCode] as const));
    const problems = checkParents(new Map([...incoming].map(([code, r]) => [code, r.organization.parentCode])), existing);
    const accepted = [...incoming.values()].filter((r) => {
      const problem = problems.get(r.organization.code);
      if (!problem) return true;
      rejectRow(ctx.report, r.line, [{ field: 'parent_organization_code', column: columns.parent_organization_code, code: problem.code, message: problem.message }], r.organization.code);
      return false;
    });

    // One batch: the file's organizations apply together or not at all.
    accepted.sort((a, b) => a.line - b.line);
    const options = { dryRun: !ctx.apply, sourceFile: file.id };
    const kinds = await ctx.directory.batch(accepted.map((r) => ({ method: 'upsertOrganization', args: [r.organization, options] }) as const));
    accepted.forEach((r, i) => ctx.report.count(kinds[i], r.organization.code, r.line));
    const k = ctx.report.counts;
    return { result: 'processed', summary: `${rows} rows: ${k.created} created, ${k.updated} updated, ${k.unchanged} unchanged, ${k.rejected} rejected` };
  }
}
