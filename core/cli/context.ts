import type { Command } from 'commander';
import { loadConfig, type ConfigSources, type LoadedConfig } from '../config/load';
import { DataPaths } from '../config/paths';
import type { LogFormat } from '../logging/logger';
import { openDatabase, type Database } from '../store/database';
import { AccountRepository } from '../store/accounts-repository';
import { refuseUnbuiltStore } from '../store/engine-support';

/** What every command gets: the global options resolved lazily, so `--help` needs no database. */
export class CliContext {
  private loaded?: LoadedConfig;
  private database?: Database;

  /**
   * @param json `--json` was given: results and errors are JSON, and so are the logs a
   *   command writes to a terminal.
   */
  constructor(private readonly program: Command, readonly json = false, readonly out: NodeJS.WritableStream = process.stdout) {}

  /** Where the configuration comes from: the global options (the environment is read by the loader). */
  get sources(): ConfigSources {
    const opts = this.program.opts<{ dataDir?: string; config?: string }>();
    return { dataDir: opts.dataDir, configFile: opts.config };
  }

  get config(): LoadedConfig {
    this.loaded ??= loadConfig(this.sources);
    return this.loaded;
  }

  get paths(): DataPaths { return new DataPaths(this.config.dataDir); }

  get db(): Database {
    if (!this.database) refuseUnbuiltStore(this.config.config, 'this command');
    this.database ??= openDatabase(this.paths.database);
    return this.database;
  }

  get accounts(): AccountRepository { return new AccountRepository(this.db); }

  /** With --json, logs stay JSON wherever they go: one format on every stream a script reads. */
  get logOverrides(): { format?: LogFormat } { return this.json ? { format: 'json' } : {}; }

  print(line = ''): void { this.out.write(`${line}\n`); }
  printJson(value: unknown): void { this.out.write(`${JSON.stringify(value, null, 2)}\n`); }

  close(): void { this.database?.close(); this.database = undefined; }
}

export type RegisterCommands = (program: Command, ctx: CliContext) => void;
