import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Container } from 'inversify';
import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import type { FluxgateError } from '../errors';
import type { Logger } from '../logging/logger';
import type { FluxOutcome } from '../plugin-api/outcome';
import type { Account } from '../store/accounts-repository';
import type { JournalFile, JournalRepository, NamingParts } from '../store/journal-repository';
import { Tokens, type OutputSigner } from '../tokens';
import { temporaryNameFor } from '../upload-names';
import { placeOutput } from './output-place';
import { CollectingReportBuilder } from './report-builder';
import type { Workflow } from './schema';
import type { StepRun } from './step';

export interface StepRunInit {
  container: Container;
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
  private readonly container: Container;

  constructor(init: StepRunInit) {
    this.container = init.container;
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

  get<T>(token: symbol): T {
    return this.container.get<T>(token);
  }

  tryGet<T>(token: symbol): T | undefined {
    return this.container.isBound(token) ? this.container.get<T>(token) : undefined;
  }

  event(type: string, detail: Record<string, unknown> = {}): void {
    this.journal.addEvent(this.file.id, type, detail);
  }

  async writeOutput(kind: 'report' | 'receipt', relativePath: string, content: string | Buffer): Promise<string> {
    const wanted = join(this.paths.accountRoot(this.account.id), relativePath);
    await mkdir(dirname(wanted), { recursive: true, mode: 0o750 });
    // A client never downloads half a report: hidden temporary name, then its name, which is
    // never another file's output (output-place.ts): the target may be `name.N.ext`.
    const temp = temporaryNameFor(wanted);
    let target: string;
    try {
      await writeFile(temp, content, { mode: 0o640 });
      target = await placeOutput(temp, wanted, (path) => this.journal.outputOwner(path) === this.file.id);
    } finally {
      await rm(temp, { force: true });
    }
    this.journal.recordOutput(this.file.id, this.account.id, kind, target);
    const signer = this.tryGet<OutputSigner>(Tokens.OutputSigner);
    if (signer) await signer.sign(target);
    this.log.debug({ kind, path: target, signed: Boolean(signer) }, 'output written');
    return target;
  }

  async cleanup(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true });
  }
}
