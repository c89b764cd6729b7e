import type { Command } from 'commander';
import { loadConfig, type ConfigSources, type LoadedConfig } from '../config/load';
import { rememberChecked } from '../config/remember-checked';
import { DataPaths } from '../config/paths';
import type { LogFormat } from '../logging/logger';
import type { AccountRepository } from '../store/ports/accounts';
import { refuseUnbuiltStore } from '../store/engine-support';
import type { Store } from '../store/ports/store';
import { SqliteStore } from '../store/sqlite-store';

/** What every command gets: the global options resolved lazily, so `--help` needs no database. */
export class CliContext {
  private loaded?: LoadedConfig;
  private opened?: SqliteStore;

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

  /** The SQLite store of the data directory, opened at first use: also the classes not behind an interface yet (docs/store.md). */
  get sqlite(): SqliteStore {
    if (!this.opened) refuseUnbuiltStore(this.config.config, 'this command');
    this.opened ??= SqliteStore.open(this.paths.database);
    return this.opened;
  }

  /** The store's repositories, behind their interfaces (core/store/ports). */
  get store(): Store { return this.sqlite; }

  get accounts(): AccountRepository { return this.store.accounts; }

  /** With --json, logs stay JSON wherever they go: one format on every stream a script reads. */
  get logOverrides(): { format?: LogFormat } { return this.json ? { format: 'json' } : {}; }

  print(line = ''): void { this.out.write(`${line}\n`); }
  printJson(value: unknown): void { this.out.write(`${JSON.stringify(value, null, 2)}\n`); }

  close(): void { this.opened?.close(); this.opened = undefined; }
}

export type RegisterCommands = (program: Command, ctx: CliContext) => void;
