import { FluxgateError, toFluxgateError } from '../../errors';
import type { IncomingFile } from '../../plugin-api/context';
import { FileRejection, type FluxOutcome } from '../../plugin-api/outcome';
import { EngineFluxContext } from '../flux-context';
import { defineStep, isRunAware, type StepRun } from '../step';
import { encryptionRequired } from './decrypt';


export const handlerStep = defineStep({
  name: 'handler',
  description: "Run the flux's handler (plugin): parse, validate, apply; its messages go to the report",
  async run(run) {
    // The engine applies the account's encryption requirement before this step (runner.ts);
    // checked again here because a handler must never see a file the account should have refused.
    if (run.account.options.requireEncryption && run.encryption !== 'decrypted') throw encryptionRequired(run.file.name);
    const { handler, manifest } = run.services.handlers.get(run.workflow.handler);
    if (manifest.profiles && !manifest.profiles.includes(run.account.profile)) {
      // A setup error (workflows check and the loader refuse such a workflow): dead at once, not the file's fault.
      throw new FluxgateError('FG_PLUGIN_NOT_FOUND', `the handler "${manifest.flux}" of workflow "${run.workflow.flux}" does not serve ${run.account.profile} accounts`);
    }
    const incoming = incomingFile(run);
    const ctx = new EngineFluxContext({ run, manifest, incoming, directory: run.services.directory });
    if (!ctx.apply) {
      run.report.add({ severity: 'info', code: 'FG_TEST_FILE', message: 'test file (version tst): validated and reported, not applied in production' });
      run.report.testRun = true;
    }
    let outcome: FluxOutcome;
    try {
      outcome = isRunAware(handler) ? await handler.handleRun(run, incoming, ctx) : await handler.handle(incoming, ctx);
    } catch (err) {
      // Rejections and permission refusals keep their code; anything else is a (retryable) handler failure.
      if (err instanceof FluxgateError) throw err;
      throw toFluxgateError(err, 'FG_HANDLER_FAILED');
    }
    if (outcome.result === 'rejected') {
      throw new FileRejection(outcome.code ?? 'FG_HANDLER_FAILED', outcome.summary ?? 'the handler rejected the file');
    }
    run.outcome = outcome;
    await run.event('handled', { result: outcome.result, summary: outcome.summary, counts: { ...run.report.counts, ...outcome.counts } });
  },
});

function incomingFile(run: StepRun): IncomingFile {
  const f = run.file;
  return {
    id: f.id, accountId: f.accountId, profile: run.account.profile, flux: run.workflow.flux, name: f.name,
    originalPath: f.originalPath, size: f.size, sha1: f.sha1, sha256: f.sha256, receivedAt: new Date(f.receivedAt),
    isTest: (run.naming?.version ?? '').toLowerCase() === 'tst',
    naming: run.naming ? { ...run.naming } : undefined,
  };
}
