import type { z } from 'zod';
import type { FluxgateConfig } from '../config/schema';
import type { DataPaths } from '../config/paths';
import type { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { FluxContext, IncomingFile } from '../plugin-api/context';
import type { DirectoryStore } from '../plugin-api/directory';
import type { FluxOutcome } from '../plugin-api/outcome';
import type { ServerKeyStore } from '../pgp/server-key';
import type { Account } from '../store/accounts-repository';
import type { JournalFile, NamingParts } from '../store/journal-types';
import type { JournalRepository } from '../store/ports/journal';
import type { OutputSigner } from '../tokens';
import type { HandlerRegistry } from './handler-registry';
import type { CollectingReportBuilder } from './report-builder';
import type { Workflow } from './schema';

/**
 * The engine's services that steps use, handed over by the composition root (core/composition):
 * typed, so a step says what it needs and the compiler checks it is given.
 */
export interface StepServices {
  /** Flux handlers by flux name (the handler step). */
  readonly handlers: HandlerRegistry;
  /** The HR directory, handed to handlers as ctx.directory. */
  readonly directory: DirectoryStore;
  /** The server's PGP key pair (the decrypt step). */
  readonly pgpKeys: Pick<ServerKeyStore, 'load'>;
  /** Signs each report and receipt written to out/; absent when pgp.signReports is off. */
  readonly signer?: OutputSigner;
}

/**
 * Everything a workflow step sees about the file being processed. One StepRun per attempt.
 * Steps communicate through it: decrypt replaces `inputPath`, check-name sets `naming`,
 * handler sets `outcome`, report reads them.
 */
export interface StepRun {
  /** The journal entry, refreshed when a step moves the input. */
  file: JournalFile;
  readonly account: Account;
  readonly workflow: Workflow;
  /** 1-based attempt number, and whether no retry will follow a transient failure. */
  readonly attempt: number;
  readonly lastAttempt: boolean;
  /**
   * The content later steps and the handler read. Starts as the uploaded file; a step that
   * transforms it (decrypt) writes the result under `workDir` and points this at it.
   */
  inputPath: string;
  /** Scratch directory for this file under DataPaths.work(account); removed after the attempt. */
  readonly workDir: string;
  /** Parts of the name once check-name accepted it. */
  naming?: NamingParts;
  /**
   * Set once the account's encryption requirement has been applied to the file: `decrypted`
   * (the decrypt step turned the upload into the plaintext at `inputPath`) or `plain` (not
   * encrypted, and the account does not require encryption). The decrypt step sets it; the
   * engine applies the requirement itself before the first step that is not an arrival step,
   * so no step past those sees a file the account should have refused.
   */
  encryption?: 'plain' | 'decrypted';
  readonly report: CollectingReportBuilder;
  /** What the handler returned. */
  outcome?: FluxOutcome;
  /** While on-error steps run: why the file failed (code FG_…), and how it ends. */
  error?: FluxgateError;
  result: 'processed' | 'rejected' | 'failed';
  readonly paths: DataPaths;
  readonly config: FluxgateConfig;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly journal: JournalRepository;
  readonly services: StepServices;
  /** Adds an entry to the file's timeline. */
  event(type: string, detail?: Record<string, unknown>): Promise<void>;
  /**
   * Writes an output into the account tree (account-relative path, e.g. `out/sal/cdmat_….csv`)
   * under a temporary name, gives it its name, records it in `outputs`, then signs it if reports
   * are signed. Never replaces another file's output: when the path holds one, the output gets the
   * first free `name.N.ext` (output-place.ts). Returns the absolute path used.
   */
  writeOutput(kind: 'report' | 'receipt', relativePath: string, content: string | Buffer): Promise<string>;
  /** writeOutput under this name only: undefined (nothing written) when another file's output holds it. */
  writeOutputAt(kind: 'report' | 'receipt', relativePath: string, content: string | Buffer): Promise<string | undefined>;
  /** Signs an output written by an earlier attempt again when its signature is missing (the attempt ended before it was made). */
  signIfUnsigned(absolutePath: string): void;
}

export interface StepDefinition<O = Record<string, never>> {
  /** The name used in workflow YAML (`- check-name`, `- forward: {url: …}`). */
  readonly name: string;
  readonly description: string;
  /** zod schema of the step's options in YAML; validated when workflows load (and in the JSON Schema). */
  readonly options?: z.ZodType<O>;
  /**
   * Where the step stands with encrypted uploads. `arrival`: it only deals with the file's
   * arrival (its name, the proof of receipt), never its content, and may run before the file is
   * decrypted (receipt, check-name). `decrypt`: it applies the account's encryption requirement
   * itself and sets `StepRun.encryption` (the decrypt step). Unset (any other step): it runs
   * only once the engine has applied that requirement (an encrypted file with no decrypt step
   * before it is dead with FG_WORKFLOW_INVALID; a plain file of an account that requires
   * encryption is rejected with FG_ENCRYPTION_REQUIRED).
   */
  readonly stage?: 'arrival' | 'decrypt';
  /** Awaited by the runner: a step with nothing to wait for is synchronous. */
  run(run: StepRun, options: O): Promise<void> | void;
}

/** Identity helper that keeps the options type of a step. */
export function defineStep<O = Record<string, never>>(def: StepDefinition<O>): StepDefinition<O> {
  return def;
}

/** A step whatever its options (they are checked by its zod schema when workflows load). */
export type AnyStep = StepDefinition<unknown>;

/**
 * A handler that runs the file itself from the step run (a sandboxed plugin: it needs the
 * run's paths, limits and store, which the plugin API's context does not expose).
 */
export interface RunAwareHandler {
  handleRun(run: StepRun, incoming: IncomingFile, ctx: FluxContext): Promise<FluxOutcome>;
}

export function isRunAware(handler: object): handler is RunAwareHandler {
  return typeof (handler as Partial<RunAwareHandler>).handleRun === 'function';
}
