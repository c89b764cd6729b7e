/** Container tokens of the core's own services (plugins use core/plugin-api/tokens). */
export { PluginTokens } from './plugin-api/tokens';

export const Tokens = {
  Config: Symbol.for('fluxgate.Config'),
  Logger: Symbol.for('fluxgate.Logger'),
  LoadedConfig: Symbol.for('fluxgate.LoadedConfig'),
  Paths: Symbol.for('fluxgate.DataPaths'),
  Database: Symbol.for('fluxgate.Database'),
  Accounts: Symbol.for('fluxgate.AccountRepository'),
  /** UploadEvents: the SFTP server announces completed uploads, intake listens. */
  UploadEvents: Symbol.for('fluxgate.UploadEvents'),
  /** DirectoryRepository (core/store): the HR directory, the DirectoryStore plugins get as ctx.directory. */
  Directory: Symbol.for('fluxgate.Directory'),
  // -- engine --
  /** JournalRepository: the file journal (files, file_events, outputs). */
  Journal: Symbol.for('fluxgate.Journal'),
  /** DurableQueue over the `queue` table. */
  Queue: Symbol.for('fluxgate.Queue'),
  /** WorkflowRegistry: the loaded workflows/*.yaml, hot-reloaded. */
  Workflows: Symbol.for('fluxgate.Workflows'),
  /** HandlerRegistry: flux name -> handler class (built-in and config.plugins). */
  Handlers: Symbol.for('fluxgate.Handlers'),
  /** StepRegistry: workflow steps by name (core/workflow/steps/index.ts). */
  Steps: Symbol.for('fluxgate.Steps'),
  /** WorkflowRunner: runs one journal file through its workflow. */
  Runner: Symbol.for('fluxgate.WorkflowRunner'),
  /** Intake: turns a completed file in an account tree into a journal entry + queue job. */
  Intake: Symbol.for('fluxgate.Intake'),
  /** Optional OutputSigner, bound by the PGP part: signs each report/receipt written to out/. */
  OutputSigner: Symbol.for('fluxgate.OutputSigner'),
  /** ServerKeyStore (core/pgp): the server's PGP key pair, loaded or generated on first use. */
  PgpKeys: Symbol.for('fluxgate.PgpKeys'),
  /** AccountService (core/accounts): account and key administration. */
  AccountService: Symbol.for('fluxgate.AccountService'),
  /** SftpService (core/sftp): the SSH/SFTP server, also bound as a Service. */
  SftpServer: Symbol.for('fluxgate.SftpServer'),
  /** Jobs (core/cron/build.ts): job registry, runner, run records and tombstones. */
  Jobs: Symbol.for('fluxgate.Jobs'),
  /** Long-running parts started by `serve`, in binding order (see core/app.ts). */
  Service: Symbol.for('fluxgate.Service'),
} as const;

/** A long-running part of the server with a clear lifecycle. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /** Called once every service has started (the server listens): background work that must not delay the start. */
  started?(): void;
  stop(): Promise<void>;
}

/**
 * Signs a report or receipt once it is complete in out/ (core/pgp writes `<file>.sig` next to it).
 * Optional: the engine calls it only when Tokens.OutputSigner is bound.
 */
export interface OutputSigner {
  sign(absolutePath: string): Promise<void>;
}
