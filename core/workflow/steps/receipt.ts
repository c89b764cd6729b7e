import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { receiptNameCandidates, renderReceipt } from '../receipt';
import { defineStep, type StepRun } from '../step';

const RECEIPT_DIR = 'out/tra';
/** Names reserved for one receipt, each taken by another node's file meanwhile, before it settles for `name.N.xml`. */
const MAX_RESERVATIONS = 5;

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
    const content = () => renderReceipt({
      fileName: run.file.name, madeAt: new Date(), sha1: run.file.sha1, sha256: run.file.sha256, size: run.file.size,
    });
    const relativeOf = (path: string) => path.slice(run.paths.accountRoot(run.account.id).length + 1);
    let path = run.file.receiptPath;
    let placed: string | undefined;
    // Another file's receipt is never replaced. Reservations are one at a time per process only:
    // another node's file may reserve the same name at the same instant, and write it first; then
    // a new name is reserved (a receipt keeps the protocol's form), and after a few, `name.N.xml`.
    for (let reservations = 0; placed === undefined; reservations++) {
      if (!path) {
        const reserved = await reserveReceiptPath(run);
        run.file = reserved.file;
        path = reserved.path;
      }
      placed = reservations < MAX_RESERVATIONS
        ? await run.writeOutputAt('receipt', relativeOf(path), content())
        : await run.writeOutput('receipt', relativeOf(path), content());
      if (placed === undefined) path = null;
    }
    run.file = await run.journal.change(run.file.id, { receiptWrittenAt: Date.now(), ...(placed === path ? {} : { receiptPath: placed }) },
      { type: 'receipt', detail: { path: placed } }) ?? run.file;
  },
});

/** The reservation under way in this process: the next one waits for it (see reserveReceiptPath). */
let reserving: Promise<unknown> = Promise.resolve();

/**
 * Chooses a free receipt name and reserves it in the journal, one file at a time in this process:
 * the check and the reservation are two awaits apart, and two files of an account must never
 * pick the same name.
 */
function reserveReceiptPath(run: StepRun): Promise<{ path: string; file: StepRun['file'] }> {
  const turn = reserving.then(async () => {
    const path = await freeReceiptPath(run);
    return { path, file: await run.journal.update(run.file.id, { receiptPath: path }) ?? run.file };
  });
  reserving = turn.catch(() => undefined);
  return turn;
}

/**
 * A receipt name no file has had (in out/tra or in the journal, whose copy outlives a receipt
 * the client deleted): the current second, else with milliseconds (receiptNameCandidates).
 */
async function freeReceiptPath(run: StepRun): Promise<string> {
  const dir = join(run.paths.accountRoot(run.account.id), RECEIPT_DIR);
  for (const name of receiptNameCandidates(run.account.id, run.workflow.naming.flux[0], new Date())) {
    const candidate = join(dir, name);
    if (!existsSync(candidate) && !await run.journal.receiptPathTaken(candidate, run.file.id)) return candidate;
  }
  throw new Error('unreachable: receipt name candidates never end');
}
