import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AccountImportService } from '../../accounts/account-import';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { responses } from '../schemas';

const Row = z.object({ line: z.number(), id: z.string(), status: z.enum(['created', 'unchanged', 'conflict', 'refused']), code: z.string().optional(), message: z.string().optional() });

/** `fluxgate account import` over HTTP: the same CSV, the same service, the same per-row report. */
export function registerAccountImportRoute(app: ZodApp, deps: HttpDeps): void {
  const importer = new AccountImportService(deps.accounts, deps.store.accounts);
  app.post('/api/v1/accounts/import', {
    schema: {
      summary: 'create many accounts from the CSV of `fluxgate account import` (id,profile,partner,keys,allow_ips,enabled); a bad row is refused, the others created; dryRun checks only', tags: ['accounts'],
      body: z.strictObject({
        csv: z.string().min(1).max(3 * 1024 * 1024).describe('the file\'s text: UTF-8, comma-separated, a header row naming the columns'),
        dryRun: z.boolean().default(false),
      }),
      response: responses({ 200: z.object({ dryRun: z.boolean(), counts: z.object({ created: z.number(), unchanged: z.number(), conflict: z.number(), refused: z.number() }), rows: z.array(Row) }) }),
    },
  }, async (request) => {
    // The importer reads a file (it streams big ones through the CSV reader): the body goes to a private temporary one.
    const dir = mkdtempSync(join(tmpdir(), 'fluxgate-import-'));
    try {
      const file = join(dir, 'accounts.csv');
      writeFileSync(file, request.body.csv, { mode: 0o600 });
      const report = await importer.importFile(file, { dryRun: request.body.dryRun });
      return { dryRun: report.dryRun, counts: report.counts, rows: report.rows };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
