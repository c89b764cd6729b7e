import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import type { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { FluxOutcome } from '../plugin-api/outcome';
import type { Account } from '../store/accounts-repository';
import type { JournalFile, NamingParts } from '../store/journal-types';
import type { JournalRepository } from '../store/ports/journal';
import { existsSync } from 'node:fs';
import { writeFileAtomicPlaced } from '../atomic-write';
import { signatureNameOf } from '../pgp/names';
import { placeOutput, placeOutputAt, type OutputClaims } from './output-place';
import { CollectingReportBuilder } from './report-builder';
import type { Workflow } from './schema';
import type { StepRun, StepServices } from './step';

export interface StepRunInit {
  services: StepServices;
  file: JournalFile;
  account: Account;
  workflow: Workflow;
  attempt: number;
  lastAttempt: boolean;
  paths: DataPaths;
  config: FluxgateConfig;
  journal: JournalRepository;
  log: Logger;
  signal: AbortSignal;
}

export class EngineStepRun implements StepRun {
  file: JournalFile;
  readonly account: Account;
  readonly workflow: Workflow;
  readonly attempt: number;
  readonly lastAttempt: boolean;
  inputPath: string;
  readonly workDir: string;
  naming?: NamingParts;
  encryption?: 'plain' | 'decrypted';
  readonly report = new CollectingReportBuilder();
  outcome?: FluxOutcome;
  error?: FluxgateError;
  result: 'processed' | 'rejected' | 'failed' = 'processed';
  readonly paths: DataPaths;
  readonly config: FluxgateConfig;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly journal: JournalRepository;
  readonly services: StepServices;
  /** Signatures of outputs being made (on the signing thread) while the next steps run. */
  private readonly signing: Array<Promise<void>> = [];

  constructor(init: StepRunInit) {
    this.services = init.services;
    this.file = init.file;
    this.account = init.account;
    this.workflow = init.workflow;
    this.attempt = init.attempt;
    this.lastAttempt = init.lastAttempt;
    this.paths = init.paths;
    this.config = init.config;
    this.journal = init.journal;
    this.log = init.log;
    this.signal = init.signal;
    this.inputPath = init.file.location;
    this.workDir = join(init.paths.work(init.account.id), init.file.id);
    this.naming = init.file.naming ?? undefined;
  }

  event(type: string, detail: Record<string, unknown> = {}): Promise<void> {
    return this.journal.addEvent(this.file.id, type, detail);
  }

  async writeOutput(kind: 'report' | 'receipt', relativePath: string, content: string | Buffer): Promise<string> {
    // Its name is never another file's output (output-place.ts): the target may be `name.N.ext`.
    return this.placeOutput(kind, relativePath, content, (temp, wanted, claims) => placeOutput(temp, wanted, claims));
  }

  writeOutputAt(kind: 'report' | 'receipt', relativePath: string, content: string | Buffer): Promise<string | undefined> {
    return this.placeOutput(kind, relativePath, content, placeOutputAt);
  }

  private async placeOutput<T extends string | undefined>(kind: 'report' | 'receipt', relativePath: string, content: string | Buffer,
    place: (temp: string, wanted: string, claims: OutputClaims) => Promise<T>): Promise<T> {
    const wanted = join(this.paths.accountRoot(this.account.id), relativePath);
    await mkdir(dirname(wanted), { recursive: true, mode: 0o750 });
    // A client never downloads half a report: written under a temporary name, then placed.
    const target = await writeFileAtomicPlaced(wanted, content, { mode: 0o640 }, (temp) => place(temp, wanted, {
      owned: async (path) => await this.journal.outputOwner(path) === this.file.id,
      claim: async (path) => {
        const id = await this.journal.recordOutput(this.file.id, this.account.id, kind, path);
        return () => this.journal.forgetOutput(id);
      },
    }));
    if (target === undefined) return target;
    this.sign(target);
    this.log.debug({ kind, path: target, signed: Boolean(this.services.signer) }, 'output written');
    return target;
  }

  signIfUnsigned(absolutePath: string): void {
    if (this.services.signer && existsSync(absolutePath) && !existsSync(signatureNameOf(absolutePath))) this.sign(absolutePath);
  }

  /** Starts the output's signature: made while the next steps run; the file is not finished before it is (settleOutputs). */
  private sign(absolutePath: string): void {
    const { signer } = this.services;
    if (!signer) return;
    const signed = signer.sign(absolutePath);
    signed.catch(() => undefined); // seen by settleOutputs
    this.signing.push(signed);
  }

  /** Whether signatures of outputs are still being made. */
  get signingOutputs(): boolean {
    return this.signing.length > 0;
  }

  /** Waits for the signatures of the outputs written so far; throws the first failure. */
  async settleOutputs(): Promise<void> {
    const pending = this.signing.splice(0);
    const results = await Promise.allSettled(pending);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.signing);
    await rm(this.workDir, { recursive: true, force: true });
  }
}
