import type { Readable } from 'node:stream';
import type { AccountDirectory } from './directory';
import type { SourceRecord, RecordReaderOptions } from './records';
import type { ReportBuilder } from './report';

/** A completed upload as the engine hands it to a handler. */
export interface IncomingFile {
  /** Journal id; every log line about this file carries it. */
  id: string;
  accountId: string;
  profile: 'exchange' | 'dropbox';
  flux: string;
  /** Name as uploaded (`ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv`). */
  name: string;
  /** Account-relative path it was uploaded to (`in/sal/…`). */
  originalPath: string;
  size: number;
  sha1: string;
  sha256: string;
  receivedAt: Date;
  /** Version `tst` in the name. */
  isTest: boolean;
  /** Parts of the name, for exchange files that follow the convention. */
  naming?: {
    dest: string; partner: string; client: string; flux: string;
    app?: string; version?: string; timestamp: string; ext: string; encrypted: boolean;
  };
}

/** File access limited to what the manifest grants; anything else throws FG_PLUGIN_PERMISSION. */
export interface ScopedFiles {
  readFile(path: string): Promise<Buffer>;
  createReadStream(path: string): Readable;
  /** Written atomically (temporary name, then rename). */
  writeFile(path: string, data: string | Buffer | Readable): Promise<void>;
  list(path: string): Promise<string[]>;
  remove(path: string): Promise<void>;
  /** Absolute path on disk, after the same permission check (for libraries that need one). */
  resolve(path: string, access: 'read' | 'write'): string;
}

export interface PluginLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface PluginSettings {
  environment: string;
  account: { id: string; profile: 'exchange' | 'dropbox'; partner: string | null; options: Record<string, unknown> };
  /** Profile codes accepted for users. */
  userProfiles: readonly string[];
  documents: { maxEntries: number; maxTotalUncompressedBytes: number; maxCompressionRatio: number };
}

export interface FluxContext {
  readonly file: IncomingFile;
  /** The input's content (already decrypted when it was a PGP upload). Always readable. */
  openInput(): Readable;
  /** Absolute path of the input's content on disk (for random-access readers such as ZIP). */
  readonly inputPath: string;
  /** Streams the input's records in the given dialect. */
  records(options: RecordReaderOptions): AsyncIterable<SourceRecord>;
  readonly files: ScopedFiles;
  readonly report: ReportBuilder;
  /** The HR directory of the file's account, and of no other (see AccountDirectory). */
  readonly directory: AccountDirectory;
  readonly log: PluginLogger;
  readonly signal: AbortSignal;
  /** False for test files in production: validate and report, change nothing. */
  readonly apply: boolean;
  /**
   * This attempt's number, from 1: 1 is a fresh run of the file (just received, or replayed by
   * an operator); a retry after a failure, a stop or a crash is 2 or more, and finds in the
   * directory what the earlier attempts of this run wrote.
   */
  readonly attempt: number;
  readonly settings: PluginSettings;
  /** Only when the manifest grants network access. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
}
