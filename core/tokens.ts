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
  /** Long-running parts started by `serve`, in binding order (see core/app.ts). */
  Service: Symbol.for('fluxgate.Service'),
} as const;

/** A long-running part of the server with a clear lifecycle. */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
