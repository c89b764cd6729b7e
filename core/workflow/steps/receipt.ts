import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { receiptName, renderReceipt } from '../receipt';
import { defineStep } from '../step';

const RECEIPT_DIR = 'out/tra';

/**
 * Exchange accounts: proof of receipt in out/tra. Written once per file: the name is reserved in
 * the journal before writing, so a retry after a crash rewrites the same receipt.
 */
export const receiptStep = defineStep({
  name: 'receipt',
  description: 'Write the proof of receipt (out/tra/cdmat_{client}_tra_{flux}_{timestamp}.xml), once per file',
  stage: 'arrival',
  async run(run) {
    if (run.account.profile !== 'exchange' || run.file.receiptWrittenAt) return;
    let path = run.file.receiptPath;
    if (!path) {
      const root = run.paths.accountRoot(run.account.id);
      const fluxCode = run.workflow.naming.flux[0]!;
      // Two files of one flux in the same second must not share a receipt name: take the next free second.
      for (let t = Date.now(); ; t += 1000) {
        const candidate = join(root, RECEIPT_DIR, receiptName(run.account.id, fluxCode, new Date(t)));
        if (!existsSync(candidate) && !run.journal.receiptPathTaken(candidate, run.file.id)) { path = candidate; break; }
      }
      run.journal.update(run.file.id, { receiptPath: path });
    }
    const relative = path.slice(run.paths.accountRoot(run.account.id).length + 1);
    // Another file's receipt is never replaced: the receipt may land under `name.N.xml` (output-place.ts).
    const placed = await run.writeOutput('receipt', relative, renderReceipt({
      fileName: run.file.name, madeAt: new Date(), sha1: run.file.sha1, sha256: run.file.sha256, size: run.file.size,
    }));
    run.journal.update(run.file.id, { receiptWrittenAt: Date.now(), ...(placed === path ? {} : { receiptPath: placed }) });
    run.event('receipt', { path: placed });
  },
});
