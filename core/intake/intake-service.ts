import type { DataPaths } from '../config/paths';
import type { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import type { AccountRepository } from '../store/ports/accounts';
import type { Service } from '../tokens';
import type { Intake } from './intake';
import { TreeScanner } from './tree-scanner';
import { AccountWatcher } from './watcher';

export interface IntakeSourceOptions {
  /** `engine.watch`: chokidar on every account (`true`), on these accounts, or none. */
  watch: boolean | readonly string[];
  /** `engine.scanIntervalSeconds`: every account tree is looked at once in this period. */
  scanIntervalSeconds: number;
}

/**
 * Feeds Intake from its sources: the SFTP server's in-process announcements (at once, the
 * usual way files arrive), the TreeScanner (every account, within the scan period: files
 * dropped by other means, and at start what arrived while the server was down), and chokidar
 * for the accounts `engine.watch` names (files dropped by other means, within a second).
 * Whoever reports a file first wins (Intake journals it once).
 */
export class IntakeService implements Service {
  readonly name = 'intake';
  private readonly scanner: TreeScanner;
  private readonly watcher?: AccountWatcher;
  private unsubscribe?: () => void;

  constructor(
    private readonly intake: Intake,
    paths: DataPaths,
    accounts: AccountRepository,
    private readonly uploads: UploadEvents,
    options: IntakeSourceOptions,
    logger: Logger,
  ) {
    this.scanner = new TreeScanner(intake, paths, accounts, options.scanIntervalSeconds * 1000, logger);
    const selection = options.watch === true ? true : options.watch === false ? [] : options.watch;
    if (selection === true || selection.length > 0) this.watcher = new AccountWatcher(intake, this.scanner, paths, accounts, selection, logger);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.uploads.onCompleted((u) => { void this.intake.consider(u.accountId, u.absolutePath, 'sftp', u.client); });
    // Watch first, then scan: a file is either there for the scan's first read or reported by the watcher.
    await this.watcher?.start();
  }

  /** The start-up read of every tree begins once the server listens: its slices would otherwise delay every later service's start. */
  started(): Promise<void> {
    return this.scanner.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.watcher?.stop();
    await this.scanner.stop();
  }
}
