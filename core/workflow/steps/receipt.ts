import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { receiptNameCandidates, renderReceipt } from '../receipt';
import { defineStep, type StepRun } from '../step';

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
    if (run.account.profile !== 'exchange') return;
    if (run.file.receiptWrittenAt) {
      // Written by an earlier attempt; its signature may not have been (it is made in the background).
      if (run.file.receiptPath) run.signIfUnsigned(run.file.receiptPath);
      return;
    }
    let path = run.file.receiptPath;
    if (!path) {
      path = freeReceiptPath(run);
      run.file = run.journal.update(run.file.id, { receiptPath: path }) ?? run.file;
    }
    const relative = path.slice(run.paths.accountRoot(run.account.id).length + 1);
    // Another file's receipt is never replaced: the receipt may land under `name.N.xml` (output-place.ts).
    const placed = await run.writeOutput('receipt', relative, renderReceipt({
      fileName: run.file.name, madeAt: new Date(), sha1: run.file.sha1, sha256: run.file.sha256, size: run.file.size,
    }));
    run.file = run.journal.change(run.file.id, { receiptWrittenAt: Date.now(), ...(placed === path ? {} : { receiptPath: placed }) },
      { type: 'receipt', detail: { path: placed } }) ?? run.file;
  },
});

/**
 * A receipt name no file has had (in out/tra or in the journal, whose copy outlives a receipt
 * the client deleted): the current second, else with milliseconds (receiptNameCandidates).
 * Chosen and reserved without awaiting, so two files never pick the same one.
 */
function freeReceiptPath(run: StepRun): string {
  const dir = join(run.paths.accountRoot(run.account.id), RECEIPT_DIR);
  for (const name of receiptNameCandidates(run.account.id, run.workflow.naming.flux[0], new Date())) {
    const candidate = join(dir, name);
    if (!existsSync(candidate) && !run.journal.receiptPathTaken(candidate, run.file.id)) return candidate;
  }
  throw new Error('unreachable: receipt name candidates never end');
}
