import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from '../config/paths';
import type { Logger } from '../logging/logger';
import type { Account } from '../store/ports/accounts';
import type { Service } from '../tokens';
import type { Workflow } from './schema';

/** How often accounts added since (`fluxgate account add` runs in another process) get the folders. */
const PERIOD_MS = 30_000;

/**
 * The folders a workflow declares (`createFolders: true`): its input directory and its report
 * directory, in the tree of every exchange account, the existing ones at start-up and when the
 * workflow loads, the new ones within PERIOD_MS. Never removes one (a client may have files there).
 */
export class DeclaredFolders implements Service {
  readonly name = 'declared-folders';
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly paths: DataPaths,
    private readonly accounts: { list(): Promise<Array<Pick<Account, 'id' | 'profile' | 'purgedAt'>>> },
    private readonly workflows: { readonly all: Workflow[] },
    private readonly log: Logger,
  ) {}

  /** Creates what is missing; returns how many folders it made. */
  async ensure(): Promise<number> {
    const declaring = this.workflows.all.filter((w) => w.createFolders && w.match.profile === 'exchange' && w.match.directory !== '');
    if (declaring.length === 0) return 0;
    let made = 0;
    for (const account of await this.accounts.list()) {
      if (account.purgedAt || account.profile !== 'exchange') continue;
      const root = this.paths.accountRoot(account.id);
      if (!existsSync(root)) continue; // being created or removed: its own code makes or deletes its tree
      for (const w of declaring) {
        for (const dir of [w.match.directory, w.report.directory]) {
          const path = join(root, dir);
          if (existsSync(path)) continue;
          mkdirSync(path, { recursive: true, mode: 0o750 });
          made++;
          this.log.info({ account: account.id, flux: w.flux, dir }, 'folder declared by a workflow created');
        }
      }
    }
    return made;
  }

  async start(): Promise<void> {
    await this.ensure();
    this.timer = setInterval(() => {
      this.ensure().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'cannot create the folders workflows declare'));
    }, PERIOD_MS);
    this.timer.unref();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }
}
