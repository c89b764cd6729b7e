import type { Command } from 'commander';
import { loadConfig, type ConfigSources, type LoadedConfig } from '../config/load';
import { rememberChecked } from '../config/remember-checked';
import { redactStoreUrl } from '../config/store-url';
import { DataPaths } from '../config/paths';
import type { LogFormat } from '../logging/logger';
import { directoryTarget, type DirectoryTarget } from '../store/directory-factory';
import type { AccountRepository } from '../store/ports/accounts';
import type { DirectoryRepository } from '../store/ports/directory';
import type { Store } from '../store/ports/store';
import { PgPool } from '../store/postgres/pool';
import { PostgresStore } from '../store/postgres/postgres-store';
import { SqliteStore } from '../store/sqlite-store';

/** What every command gets: the global options resolved lazily, so `--help` needs no database. */
export class CliContext {
  private loaded?: LoadedConfig;
  private opened?: SqliteStore | PostgresStore;

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
    if (!this.loaded) {
      this.loaded = loadConfig(this.sources);
      // Short commands may skip the check next time if nothing it read changes (fast-path.ts);
      // only for the embedded SQLite store, the one they read.
      if (this.loaded.config.store.url === undefined) rememberChecked(this.sources, this.loaded.dataDir);
    }
    return this.loaded;
  }

  get paths(): DataPaths { return new DataPaths(this.config.dataDir); }

  /**
   * The configured store, opened at first use: the data directory's SQLite file, or PostgreSQL
   * with store.url. A command does not migrate PostgreSQL (serve and `fluxgate store migrate`
   * do): on a database without the schema its first query fails with FG_STORE_NOT_MIGRATED.
   * The pool connects at the first query and ends with close().
   */
  private get engineStore(): SqliteStore | PostgresStore {
    if (!this.opened) {
      const { url, poolSize } = this.config.config.store;
      this.opened = url !== undefined
        ? new PostgresStore(new PgPool(url, { size: poolSize, applicationName: 'fluxgate cli' }))
        : SqliteStore.open(this.paths.database);
    }
    return this.opened;
  }

  /** The store's repositories, behind their interfaces (core/store/ports). */
  get store(): Store { return this.engineStore; }

  get accounts(): AccountRepository { return this.store.accounts; }

  /** The HR directory (the plugin API's port) on the configured store. */
  directory(): DirectoryRepository { return this.engineStore.directory(); }

  /** Where a sandboxed plugin's run finds the configured store's directory (core/sandbox). */
  get directoryTarget(): DirectoryTarget { return directoryTarget(this.config.config.store.url, this.paths); }

  /** Where the store is, for messages: the SQLite file, or the PostgreSQL URL without its password. */
  get storeName(): string {
    const { url } = this.config.config.store;
    return url === undefined ? this.paths.database : redactStoreUrl(url);
  }

  /** With --json, logs stay JSON wherever they go: one format on every stream a script reads. */
  get logOverrides(): { format?: LogFormat } { return this.json ? { format: 'json' } : {}; }

  print(line = ''): void { this.out.write(`${line}\n`); }
  printJson(value: unknown): void { this.out.write(`${JSON.stringify(value, null, 2)}\n`); }

  /** Closes the store if a command opened it (PostgreSQL: ends the pool, so the process can exit). */
  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    await opened?.close();
  }
}

export type RegisterCommands = (program: Command, ctx: CliContext) => void;
