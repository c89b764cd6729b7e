import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load';
import { DataPaths } from '../config/paths';
import { openDatabase, type Database } from '../store/database';
import { AccountRepository } from '../store/accounts-repository';

/** What every command gets: the global options resolved lazily, so `--help` needs no database. */
export class CliContext {
  private loaded?: LoadedConfig;
  private database?: Database;

  constructor(private readonly program: Command, readonly out: NodeJS.WritableStream = process.stdout) {}

  get config(): LoadedConfig {
    if (!this.loaded) {
      const opts = this.program.opts<{ dataDir?: string; config?: string }>();
      this.loaded = loadConfig({ dataDir: opts.dataDir, configFile: opts.config });
    }
    return this.loaded;
  }

  get paths(): DataPaths { return new DataPaths(this.config.dataDir); }

  get db(): Database {
    this.database ??= openDatabase(this.paths.database);
    return this.database;
  }

  get accounts(): AccountRepository { return new AccountRepository(this.db); }

  print(line = ''): void { this.out.write(`${line}\n`); }
  printJson(value: unknown): void { this.out.write(`${JSON.stringify(value, null, 2)}\n`); }

  close(): void { this.database?.close(); this.database = undefined; }
}

export type RegisterCommands = (program: Command, ctx: CliContext) => void;
