import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { FluxgateError } from '../errors';
import type { FluxContext, IncomingFile, PluginLogger, PluginSettings, ScopedFiles } from '../plugin-api/context';
import type { AccountDirectory, DirectoryStore } from '../plugin-api/directory';
import type { FluxManifest } from '../plugin-api/manifest';
import type { RecordReaderOptions, SourceRecord } from '../plugin-api/records';
import type { ReportBuilder } from '../plugin-api/report';
import { readRecords } from '../records';
import { bindDirectory } from './account-directory';
import { describeNetwork, networkAllows } from './manifest-check';
import { plainName } from './naming';
import { ManifestScopedFiles } from './scoped-files';
import type { StepRun } from './step';

/** What the handler step knows when it builds a handler's context. */
export interface ContextParts {
  run: StepRun;
  manifest: FluxManifest;
  incoming: IncomingFile;
  /** The engine's store (every account): the context hands the handler its file's account only. */
  directory: DirectoryStore;
}

/** The FluxContext a handler receives: only what its manifest grants. */
export class EngineFluxContext implements FluxContext {
  readonly file: IncomingFile;
  readonly files: ScopedFiles;
  readonly report: ReportBuilder;
  readonly directory: AccountDirectory;
  readonly log: PluginLogger;
  readonly signal: AbortSignal;
  readonly apply: boolean;
  readonly attempt: number;
  readonly settings: PluginSettings;
  private readonly run: StepRun;
  private readonly manifest: FluxManifest;

  constructor({ run, manifest, incoming, directory }: ContextParts) {
    this.run = run;
    this.manifest = manifest;
    this.file = incoming;
    this.files = new ManifestScopedFiles(run.paths, run.account.id, manifest);
    this.report = run.report;
    this.directory = bindDirectory(directory, run.account.id, manifest.flux);
    this.log = run.log.child({ component: 'plugin', flux: manifest.flux });
    this.signal = run.signal;
    // Test files (version tst) are validated and reported everywhere, but never applied in production.
    this.apply = !(incoming.isTest && run.config.environment === 'production');
    this.attempt = run.attempt;
    const docs = run.config.documents;
    this.settings = {
      environment: run.config.environment,
      account: { id: run.account.id, profile: run.account.profile, partner: run.account.partner, options: { ...run.account.options } },
      userProfiles: run.config.directory.userProfiles,
      documents: { maxEntries: docs.maxEntries, maxTotalUncompressedBytes: docs.maxTotalUncompressedBytes, maxCompressionRatio: docs.maxCompressionRatio },
    };
  }

  /** The step run may replace the input (decrypt), so read the path at call time. */
  get inputPath(): string { return this.run.inputPath; }

  openInput(): Readable {
    return createReadStream(this.run.inputPath);
  }

  records(options: RecordReaderOptions): AsyncIterable<SourceRecord> {
    // The input may be a decrypted work file: its type is decided by the uploaded name (sans .pgp).
    return readRecords(this.run.inputPath, { fileName: plainName(this.file.name), ...options }, this.signal,
      { parseThreadMinBytes: this.run.config.engine.parseThreadMinBytes });
  }

  fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    const url = new URL(String(input instanceof URL ? input.href : input));
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    if (!networkAllows(this.manifest.permissions.network, url.hostname, port)) {
      return Promise.reject(new FluxgateError('FG_PLUGIN_PERMISSION',
        `handler for flux "${this.manifest.flux}" may not connect to ${url.hostname}:${port}: its manifest's permissions.network grants ${describeNetwork(this.manifest.permissions.network)}`,
        { grant: 'permissions.network', host: `${url.hostname}:${port}` }));
    }
    return fetch(input, { ...init, signal: init?.signal ?? this.signal });
  }
}
