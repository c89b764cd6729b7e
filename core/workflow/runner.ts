import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import { FluxgateError, toFluxgateError, type ErrorCode } from '../errors';
import type { Logger } from '../logging/logger';
import { FileRejection } from '../plugin-api/outcome';
import { isPgpMessageFile } from '../pgp/detect';
import { isEncryptedName } from '../pgp/names';
import type { JobOutcome } from '../queue/queue';
import { backoffDelay } from '../queue/backoff';
import { LIVE_STATES, type JournalFile, type OutcomeSummary } from '../store/journal-types';
import type { Account, AccountRepository } from '../store/ports/accounts';
import type { JournalRepository } from '../store/ports/journal';
import type { LeaseRef } from '../store/ports/queue';
import { findInput, moveInput, archiveDestination, quarantineDestination, UNMATCHED_FLUX } from './input-moves';
import type { StepRegistry, WorkflowRegistry } from './registry';
import type { StepRef } from './schema';
import type { AnyStep, StepServices } from './step';
import { DiskSpaceGate, isOutOfSpace } from './disk-space';
import { EngineStepRun } from './step-run';
import { encryptionRequired } from './steps/decrypt';

/** Whole-file problems: never retried, the file is rejected, quarantined and reported. */
const REJECTION_CODES = new Set<ErrorCode>(['FG_NAME_CONVENTION', 'FG_NO_WORKFLOW', 'FG_WORKFLOW_AMBIGUOUS', 'FG_DECRYPT', 'FG_ENCRYPTION_REQUIRED']);
/** Faults of the plugin or setup (configuration errors) that retrying cannot fix: dead at once. */
const FATAL_CODES = new Set<ErrorCode>(['FG_PLUGIN_PERMISSION', 'FG_PLUGIN_INVALID', 'FG_PLUGIN_NOT_FOUND', 'FG_WORKFLOW_INVALID',
  // A sandboxed plugin that crashed, hung or ran out of memory would do it again (issue #23).
  'FG_PLUGIN_CRASHED', 'FG_PLUGIN_TIMEOUT', 'FG_PLUGIN_MEMORY',
  // A value the store cannot hold (a text with a NUL, on either engine) was built by the plugin: the
  // same file builds it again on every attempt.
  'FG_STORE_VALUE']);

export interface RunnerDeps {
  /** What steps use: handlers, the directory, the PGP key, the report signer. */
  services: StepServices;
  /** Pauses processing while the disk is full (default: one over the data directory). */
  disk?: DiskSpaceGate;
  journal: JournalRepository;
  accounts: Pick<AccountRepository, 'get'>;
  workflows: WorkflowRegistry;
  steps: StepRegistry;
  paths: DataPaths;
  config: FluxgateConfig;
  logger: Logger;
  /**
   * Queues a file again (the engine's FileJobs). Given, a file whose outputs are still being
   * signed when its steps are done hands its account's turn to the next file and finishes in
   * the background; a signature that then fails runs the file again through this job. Not on
   * several nodes (store.url): there the file keeps its lease until it is processed.
   */
  requeue?: (file: JournalFile) => Promise<unknown>;
}

/**
 * Runs one journal file through its workflow, once per queue delivery. Safe to run again after
 * a crash at any point: every step is idempotent (receipts and destinations are derived from
 * the file id, handlers must apply idempotently) and a file no longer live is left alone.
 */
export class WorkflowRunner {
  private readonly log: Logger;
  private readonly disk: DiskSpaceGate;
  /** Files whose steps are done, finishing once their outputs are signed (see RunnerDeps.requeue). */
  private readonly finishing = new Set<Promise<void>>();

  constructor(private readonly deps: RunnerDeps) {
    this.log = deps.logger.child({ component: 'workflow' });
    this.disk = deps.disk ?? new DiskSpaceGate(deps.paths.root, this.log);
  }

  /**
   * `lease`: the queue lease this delivery runs under. The attempt starts and the file finishes
   * only while it is held (FG_LEASE_LOST otherwise: another worker took the file over, and this
   * one records nothing more).
   */
  async process(fileId: string, attempt: number, maxAttempts: number, signal: AbortSignal, lease?: LeaseRef): Promise<JobOutcome> {
    const { journal, paths } = this.deps;
    // While the disk is full no file starts: it would only fail for a reason that is not its own.
    try {
      await this.disk.ready(signal);
    } catch {
      return { status: 'postpone', error: 'stopped while processing was paused for lack of disk space' };
    }
    const log = this.log.child({ fileId });
    const found = await journal.get(fileId);
    if (!found || !LIVE_STATES.includes(found.state)) return { status: 'done' };
    const file = await findInput(paths, journal, found);
    if (!file) {
      await this.finish(found, 'dead', { result: 'dead', code: 'FG_INTERNAL', summary: `the input ${found.location} has vanished` }, lease);
      log.error({ location: found.location }, 'input vanished before processing');
      return { status: 'dead', error: 'input vanished' };
    }
    const account = await this.deps.accounts.get(file.accountId);
    const workflow = account ? this.deps.workflows.forFile({ ...file, profile: account.profile }) : undefined;
    if (!account || !workflow) {
      const { code, why } = this.unmatched(file, account);
      const moved = await moveInput(journal, file, quarantineDestination(paths, { ...file, flux: file.flux ?? UNMATCHED_FLUX }), 'quarantined');
      await this.finish(moved, 'rejected', { result: 'rejected', code, summary: why }, lease);
      log.warn({ path: file.originalPath }, `file rejected: ${why}`);
      return { status: 'done' };
    }

    const started = await journal.startAttempt(file.id, attempt, maxAttempts, workflow.flux, { lease });
    const run = new EngineStepRun({
      services: this.deps.services, file: started, account, workflow, attempt,
      lastAttempt: attempt >= maxAttempts, paths, config: this.deps.config, journal, log, signal,
    });
    let handedOff = false;
    try {
      await mkdir(run.workDir, { recursive: true, mode: 0o750 });
      await this.runSteps(run, workflow.steps);
      const { requeue } = this.deps;
      // Several nodes (store.url): no hand-off, the lease is held until the file is processed,
      // so a node dying while it signs is taken over when its lease runs out (docs/engine.md).
      if (requeue && run.signingOutputs && this.deps.config.store.url === undefined) {
        // Its data is applied: the account's next file may start while this one's outputs are
        // signed (RSA 4096: ~4 ms each, one file at a time per account). It is processed, and
        // leaves the tree, only once they are; a crash before that runs it again (recovery).
        handedOff = true;
        this.track(this.finishOnceSigned(run, requeue, log));
        return { status: 'done' };
      }
      await run.settleOutputs();
      await this.processed(run, log, lease);
      return { status: 'done' };
    } catch (thrown) {
      // Shutting down: the queue leaves the job for the next start. Lease lost: its new holder
      // processes the file, this worker records nothing more.
      if (signal.aborted || isLeaseLost(thrown)) throw thrown;
      try {
        if (isOutOfSpace(thrown)) throw thrown;
        return await this.failed(run, thrown, maxAttempts, log, lease);
      } catch (err) {
        if (signal.aborted || !isOutOfSpace(err)) throw err;
        return await this.waitForSpace(run, err, signal);
      }
    } finally {
      if (!handedOff) await run.cleanup().catch(() => undefined);
    }
  }

  /** Waits for the files finishing in the background (a graceful stop). */
  async drain(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all([...this.finishing]);
  }

  private track(work: Promise<void>): void {
    this.finishing.add(work);
    void work.finally(() => this.finishing.delete(work));
  }

  private async finishOnceSigned(run: EngineStepRun, requeue: (file: JournalFile) => Promise<unknown>, log: Logger): Promise<void> {
    try {
      await run.settleOutputs();
      // Its job is done already (handed off): no lease to check; the file is still `processing`,
      // so a crash before this runs it again at the next start.
      await this.processed(run, log);
    } catch (err) {
      // No space for a signature, or the key failed: the file runs again from its first step
      // (steps are idempotent), through a job of its own, as an interrupted file would.
      log.warn({ err: (err as Error).message }, 'an output could not be signed: the file runs again');
      try {
        await requeue(run.file);
      } catch (queueErr) {
        log.error({ err: (queueErr as Error).message }, 'cannot queue the file again (the next start will)');
      }
    } finally {
      await run.cleanup().catch(() => undefined);
    }
  }

  private async processed(run: EngineStepRun, log: Logger, lease?: LeaseRef): Promise<void> {
    run.file = await moveOut(run, 'processed');
    const counts = { ...run.report.counts, ...definedCounts(run.outcome?.counts) };
    await this.finish(run.file, 'processed', {
      result: 'processed', summary: run.outcome?.summary, counts,
      messages: run.report.messages.length,
    }, lease);
    log.info({ flux: run.workflow.flux, counts }, 'file processed');
  }

  /** A step failed: retried with backoff (transient), else on-error steps, then rejected or dead. */
  private async failed(run: EngineStepRun, thrown: unknown, maxAttempts: number, log: Logger, lease?: LeaseRef): Promise<JobOutcome> {
    const { journal } = this.deps;
    const { file, workflow, attempt } = run;
    const err = toFluxgateError(thrown, 'FG_HANDLER_FAILED');
    const kind = classify(err);
    if (kind === 'transient' && attempt < maxAttempts) {
      const delayMs = backoffDelay({ ...this.deps.config.engine.retry, ...workflow.retry }, attempt);
      run.file = await journal.attemptFailed(file.id, attempt, { code: err.code, error: err.message, retryInMs: delayMs });
      log.warn({ attempt, maxAttempts, code: err.code, err: err.message, retryInMs: delayMs }, 'attempt failed, will retry');
      return { status: 'retry', error: err.message, delayMs };
    }
    run.error = err;
    run.result = kind === 'rejected' ? 'rejected' : 'failed';
    run.outcome = undefined;
    await this.runOnError(run);
    try {
      await run.settleOutputs();
    } catch (signErr) {
      // No space for a signature: the file waits for space and runs again, so its report is signed.
      if (isOutOfSpace(signErr)) throw signErr;
      await run.event('step-failed', { onError: true, error: (signErr as Error).message });
      run.log.error({ err: (signErr as Error).message }, 'an output of the on-error steps could not be signed');
    }
    run.file = await moveOut(run, run.result);
    const state = kind === 'rejected' ? 'rejected' : 'dead';
    await this.finish(run.file, state, {
      result: state, code: err.code, summary: err.message,
      counts: { ...run.report.counts }, messages: run.report.messages.length,
    }, lease);
    log.warn({ code: err.code, err: err.message, attempt }, state === 'rejected' ? 'file rejected' : 'file is dead after its last attempt');
    return state === 'dead' ? { status: 'dead', error: err.message } : { status: 'done' };
  }

  /**
   * A write failed for lack of space (ENOSPC, EDQUOT): not the file's fault. It waits, with
   * every other file, until space is back (DiskSpaceGate), then runs again from its first step
   * (steps are idempotent) in an attempt that does not count against its limit.
   */
  private async waitForSpace(run: EngineStepRun, err: unknown, signal: AbortSignal): Promise<JobOutcome> {
    const message = (err as Error).message;
    try {
      run.file = await this.deps.journal.pause(run.file.id, { attempt: run.attempt, code: 'FG_DISK_FULL', error: message });
    } catch (journalErr) {
      run.log.error({ err: (journalErr as Error).message }, 'cannot record the pause in the journal');
    }
    run.log.warn({ attempt: run.attempt, code: 'FG_DISK_FULL', err: message }, 'no space left: the file waits for disk space (this attempt does not count)');
    await this.disk.pause(err, signal).catch(() => undefined); // stopping: postponed all the same
    return { status: 'postpone', error: message };
  }

  private async runSteps(run: EngineStepRun, refs: readonly StepRef[]): Promise<void> {
    for (const ref of refs) {
      const step = this.step(ref);
      if (!step.stage && !run.encryption) await applyEncryptionRequirement(run, ref.name);
      const started = performance.now();
      await step.run(run, stepOptions(step, ref));
      // How long each step took, in the file's timeline: where a slow file's time went.
      await run.event('step', { step: ref.name, ms: Math.round(performance.now() - started) });
    }
    if (!run.encryption) await applyEncryptionRequirement(run);
  }

  /** On-error steps all run, even when one of them fails: a rejected file must still be reported and kept. */
  private async runOnError(run: EngineStepRun): Promise<void> {
    for (const ref of run.workflow.onError) {
      try {
        const step = this.step(ref);
        await step.run(run, stepOptions(step, ref));
        await run.event('step', { step: ref.name, onError: true });
      } catch (err) {
        // No space to write the report: the file waits for space and runs again, so it is reported.
        if (isOutOfSpace(err)) throw err;
        await run.event('step-failed', { step: ref.name, onError: true, error: (err as Error).message }).catch(() => undefined);
        run.log.error({ step: ref.name, err: (err as Error).message }, 'on-error step failed');
      }
    }
  }

  private step(ref: StepRef) {
    const step = this.deps.steps.get(ref.name);
    if (!step) throw new FluxgateError('FG_WORKFLOW_INVALID', `unknown step "${ref.name}"`);
    return step;
  }

  /** Why no workflow takes the file: the account is gone, no workflow matches, or several do. */
  private unmatched(file: JournalFile, account: Account | undefined): { code: ErrorCode; why: string } {
    if (!account) return { code: 'FG_NO_WORKFLOW', why: `account "${file.accountId}" no longer exists` };
    const several = this.deps.workflows.matching(account.profile, file.originalPath);
    if (several.length < 2) return { code: 'FG_NO_WORKFLOW', why: `no workflow matches ${file.originalPath}` };
    const named = several.map((w) => `${basename(w.source)} (flux "${w.flux}", pattern ${w.match.pattern?.source})`).join(', ');
    return {
      code: 'FG_WORKFLOW_AMBIGUOUS',
      why: `${file.originalPath} matches ${several.length} workflows: ${named}; their match.pattern must not overlap (the operator must change one), then replay the file`,
    };
  }

  private async finish(file: JournalFile, state: 'processed' | 'rejected' | 'dead', outcome: OutcomeSummary, lease?: LeaseRef): Promise<void> {
    await this.deps.journal.finish(file.id, state, outcome, { lease });
  }
}

/**
 * The account's encryption requirement, whatever the workflow's steps: applied where the
 * workflow has not applied it with a decrypt step, before the first step past the arrival ones
 * (receipt, check-name), so no handler, forward or report ever takes a file the account should
 * have refused, nor an encrypted file as if it were plain. An encrypted file (by name or by its
 * OpenPGP header) that no decrypt step turned into plaintext is a workflow error: dead at once
 * (FG_WORKFLOW_INVALID, no retry, quarantined and reported) until the workflow is fixed and the
 * file replayed. A plain file of an account that requires encryption is rejected.
 */
async function applyEncryptionRequirement(run: EngineStepRun, before?: string): Promise<void> {
  const { file, workflow } = run;
  if (isEncryptedName(file.name) || await isPgpMessageFile(run.inputPath)) {
    const source = basename(workflow.source);
    const hasDecrypt = workflow.steps.some((s) => s.name === 'decrypt');
    const where = before
      ? (hasDecrypt ? `its decrypt step comes after "${before}"` : `it has no decrypt step (needed before "${before}")`)
      : 'it has no decrypt step';
    throw new FluxgateError('FG_WORKFLOW_INVALID',
      `${file.name} is PGP-encrypted, but workflow "${workflow.flux}" (${source}) cannot decrypt it: ${where}. `
      + `Add "- decrypt" to its steps right after check-name, then replay the file (fluxgate replay ${file.id})`,
      { missingStep: 'decrypt', workflow: workflow.flux, source });
  }
  if (run.account.options.requireEncryption) throw encryptionRequired(file.name);
  run.encryption = 'plain';
}

/** A bare `- forward` in YAML has no options object: parse `{}` so the step's defaults apply. */
function stepOptions(step: AnyStep, ref: StepRef): unknown {
  return step.options ? step.options.parse(ref.options) : ref.options;
}

function definedCounts(counts: Record<string, number | undefined> = {}): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
}

function isLeaseLost(err: unknown): boolean {
  return err instanceof FluxgateError && err.code === 'FG_LEASE_LOST';
}

function classify(err: FluxgateError): 'rejected' | 'fatal' | 'transient' {
  if (err instanceof FileRejection || REJECTION_CODES.has(err.code)) return 'rejected';
  if (FATAL_CODES.has(err.code)) return 'fatal';
  return 'transient';
}

/** Whatever the workflow did, a finished input leaves the account tree (and the watcher). */
async function moveOut(run: EngineStepRun, result: 'processed' | 'rejected' | 'failed'): Promise<JournalFile> {
  const root = run.paths.accountRoot(run.account.id) + '/';
  if (!run.file.location.startsWith(root)) return run.file;
  const dest = result === 'processed' ? archiveDestination(run.paths, run.file) : quarantineDestination(run.paths, run.file);
  return moveInput(run.journal, run.file, dest, result === 'processed' ? 'archived' : 'quarantined');
}
