import {
  fluxHandler, rejectFile, rejectRow,
  type DirectoryDocument, type Employee, type FluxContext, type FluxHandler, type FluxOutcome, type IncomingFile, type RowProblem,
} from '../../core/plugin-api';
import { inspectPdf, listDocuments, openArchive, openEntry, readSmallEntry, type DocumentPair } from './archive';
import { parseMetadata, type DocumentMetadata } from './metadata';

const VAULT_DIR = 'vault/documents';

interface Candidate { pair: DocumentPair; meta: DocumentMetadata; sha256: string; size: number; problems: RowProblem[]; employee?: Employee }

/**
 * dis: a ZIP of payslips and other documents, each X.pdf with its metadata X.xml. The archive
 * is checked whole before anything is stored (hostile archives are rejected, nothing written);
 * each document is then matched to an employee and stored content-addressed in the vault
 * (`vault/documents/<sha256>.pdf`), so re-sending the same archive stores nothing new.
 */
@fluxHandler({
  apiVersion: 2,
  flux: 'dis',
  description: 'Document distribution (ZIP of PDF + XML metadata)',
  profiles: ['exchange'],
  permissions: { read: ['in/dis'], write: [VAULT_DIR], network: false },
})
export class DisHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext): Promise<FluxOutcome> {
    const zip = await openArchive(ctx.inputPath);
    try {
      const { pairs, ignored } = await listDocuments(zip, ctx.settings.documents);
      for (const name of ignored) ctx.report.add({ severity: 'warning', entityId: name, message: 'not a document or its metadata: ignored' });

      const candidates: Candidate[] = [];
      for (const pair of pairs) {
        ctx.signal.throwIfAborted();
        const pdf = await inspectPdf(zip, pair.pdf);
        if (!pdf.isPdf) throw rejectFile('FG_NOT_PDF', `"${pair.pdf.fileName}" does not start with %PDF-: it is not a PDF file`, { entry: pair.pdf.fileName });
        const { meta, problems } = parseMetadata(await readSmallEntry(zip, pair.xml));
        candidates.push({ pair, meta, ...pdf, problems });
      }

      this.flagDuplicates(candidates);
      for (const c of candidates) if (c.problems.length === 0) await this.match(ctx, c);

      const stored = new Set(await ctx.files.list(VAULT_DIR));
      for (const c of candidates) {
        const entityId = c.meta.externalReference || c.pair.pdf.fileName;
        if (c.problems.length > 0) {
          rejectRow(ctx.report, undefined, c.problems.map((p) => ({ ...p, message: `${c.pair.pdf.fileName}: ${p.message}` })), entityId);
          continue;
        }
        const vaultName = `${c.sha256}.pdf`;
        if (ctx.apply && !stored.has(vaultName)) {
          await ctx.files.writeFile(`${VAULT_DIR}/${vaultName}`, await openEntry(zip, c.pair.pdf));
          stored.add(vaultName);
        }
        const document: DirectoryDocument = {
          externalReference: c.meta.externalReference, title: c.meta.title, documentDate: c.meta.documentDate,
          organizationCode: c.employee!.organizationCode, registrationReference: c.employee!.registrationReference,
          vaultPath: `${VAULT_DIR}/${vaultName}`, sha256: c.sha256, size: c.size,
          attributes: { entry: c.pair.pdf.fileName },
        };
        // One document at a time, after its PDF is in the vault: a document never names a PDF not stored.
        ctx.report.count(await ctx.directory.upsertDocument(document, { dryRun: !ctx.apply, sourceFile: file.id }), entityId);
      }
      const k = ctx.report.counts;
      return { result: 'processed', summary: `${pairs.length} documents: ${k.created} stored, ${k.updated} updated, ${k.unchanged} unchanged, ${k.rejected} rejected` };
    } finally {
      zip.close();
    }
  }

  /** The same external_reference twice with different content: every such document is rejected. */
  private flagDuplicates(candidates: Candidate[]): void {
    const byRef = new Map<string, Candidate[]>();
    for (const c of candidates) if (c.meta.externalReference) byRef.set(c.meta.externalReference, [...(byRef.get(c.meta.externalReference) ?? []), c]);
    for (const [ref, group] of byRef) {
      if (group.length > 1 && new Set(group.map((c) => c.sha256 + JSON.stringify(c.meta))).size > 1) {
        for (const c of group) c.problems.push({ field: 'external_reference', code: 'FG_DUP_IN_FILE',
          message: `external_reference ${ref} is used by ${group.map((g) => g.pair.pdf.fileName).join(', ')} with different content` });
      }
    }
  }

  /** organization_code + registration_key first, else technical_id (which must designate one employee). */
  private async match(ctx: FluxContext, c: Candidate): Promise<void> {
    const { organizationCode, registrationKey, technicalId } = c.meta;
    if (organizationCode && registrationKey) {
      c.employee = await ctx.directory.getEmployee(organizationCode, registrationKey);
      if (c.employee) return;
    }
    if (technicalId) {
      const found = await ctx.directory.findEmployees({ technicalId });
      if (found.length === 1) { c.employee = found[0]; return; }
      if (found.length > 1) {
        c.problems.push({ field: 'technical_id', code: 'FG_UNKNOWN_REF', message: `technical_id ${technicalId} designates ${found.length} employees` });
        return;
      }
    }
    const who = organizationCode && registrationKey ? `${organizationCode}/${registrationKey}` : `technical_id ${technicalId}`;
    c.problems.push({ field: 'user_data', code: 'FG_UNKNOWN_REF', message: `no employee ${who}: send the employee in a sal file first` });
  }
}
