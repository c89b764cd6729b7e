/**
 * The `dse` flux (data sets), written as an integrator would: it imports nothing but the
 * plugin API. A dse file lists reference values, one per row:
 *
 *   dataset_code;value_code;label;description
 *   JOB;DEV;Developer;Writes software
 *
 * The handler validates each row, applies the values to a JSON store in the account's private
 * storage (`vault/dse/datasets.json`, outside the SFTP tree) and reports each row as created,
 * updated, unchanged or rejected. The engine writes that report to out/dse.
 */
import {
  fluxHandler, rejectRow, RowChecker,
  type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile,
} from 'fluxgate/plugin-api';

const STORE = 'vault/dse/datasets.json';
const CODE = /^[A-Za-z0-9_.-]+$/;

/** dataset_code → value_code → value. */
type Store = Record<string, Record<string, { label: string; description: string | null }>>;

@fluxHandler({
  apiVersion: 2,
  flux: 'dse',
  description: 'Data sets (reference values): dataset_code;value_code;label;description',
  profiles: ['exchange'],
  // What the context lets this handler touch; anything else fails with FG_PLUGIN_PERMISSION.
  permissions: { read: ['in/dse'], write: ['vault/dse'], network: false },
})
export class DseHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const store: Store = (await ctx.files.list('vault/dse')).includes('datasets.json')
      ? JSON.parse((await ctx.files.readFile(STORE)).toString('utf8')) as Store
      : {};
    const seen = new Map<string, { line: number; json: string }>();
    const conflicting = new Set<string>();
    const rows: Array<{ line: number; key: string; dataset: string; code: string; value: Store[string][string] }> = [];

    // Streams the rows; file-level problems (encoding, separator, missing column…) are thrown for us.
    for await (const record of ctx.records({ dialect: 'exchange', required: ['dataset_code', 'value_code', 'label'] })) {
      const c = new RowChecker(record);
      const dataset = c.text('dataset_code', { required: true, max: 50 });
      const code = c.text('value_code', { required: true, max: 50 });
      const value = { label: c.text('label', { required: true, max: 255 }) ?? '', description: c.text('description', { max: 1000 }) };
      for (const [field, v] of [['dataset_code', dataset], ['value_code', code]] as const) {
        if (v && !CODE.test(v)) c.problem(field, 'FG_INVALID_VALUE', `${field} may only hold letters, digits, "_", "-" and "."`);
      }
      const key = `${dataset}/${code}`;
      if (!c.ok) { rejectRow(ctx.report, record.line, c.problems, dataset && code ? key : undefined); continue; }
      const json = JSON.stringify(value);
      const before = seen.get(key);
      if (before && before.json !== json) conflicting.add(key);
      seen.set(key, before ?? { line: record.line, json });
      rows.push({ line: record.line, key, dataset: dataset!, code: code!, value });
    }

    for (const row of rows) {
      if (conflicting.has(row.key)) {
        rejectRow(ctx.report, row.line, [{ field: 'value_code', column: 2, code: 'FG_DUP_IN_FILE',
          message: `${row.key} appears more than once with different data: all these rows are rejected` }], row.key);
        continue;
      }
      const current = store[row.dataset]?.[row.code];
      const kind = !current ? 'created' : JSON.stringify(current) === JSON.stringify(row.value) ? 'unchanged' : 'updated';
      (store[row.dataset] ??= {})[row.code] = row.value;
      ctx.report.count(kind, row.key, row.line);
    }

    // Test files in production are validated and reported, never applied.
    const { created, updated } = ctx.report.counts;
    if (ctx.apply && created + updated > 0) await ctx.files.writeFile(STORE, JSON.stringify(store, null, 2));
    const k = ctx.report.counts;
    return { result: 'processed', summary: `${k.created} created, ${k.updated} updated, ${k.unchanged} unchanged, ${k.rejected} rejected` };
  }
}
