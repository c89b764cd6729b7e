import { createHash } from 'node:crypto';
import type { Logger } from '../logging/logger';
import type { GoodDefinition, WorkflowStatus, WorkflowVersionRepository } from '../store/ports/workflow-versions';

/**
 * What the workflow registry keeps in the store, as it uses it: synchronously, while it loads
 * and reloads (its constructor and chokidar's callbacks). The last good definitions are read
 * once, before the registry is built (`load`); each write goes to the store in the background,
 * in order, a failure logged (the registry runs on either way), and `settled()` waits for them.
 */
export class WorkflowVersionStore {
  private pending: Promise<void> = Promise.resolve();

  private constructor(private readonly repo: WorkflowVersionRepository, private readonly good: Map<string, GoodDefinition>, private readonly log: Logger) {}

  /** Reads every file's last good definition (what a file invalid at start-up falls back to). */
  static async load(repo: WorkflowVersionRepository, log: Logger): Promise<WorkflowVersionStore> {
    return new WorkflowVersionStore(repo, await repo.allGood(), log);
  }

  lastGood(source: string): GoodDefinition | undefined {
    return this.good.get(source);
  }

  saveGood(source: string, flux: string, content: string): void {
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (this.good.get(source)?.sha256 !== sha256) this.good.set(source, { flux, content, sha256, savedAt: Date.now() });
    this.write(source, () => this.repo.saveGood(source, flux, content));
  }

  setStatus(source: string, status: WorkflowStatus): void {
    this.write(source, () => this.repo.setStatus(source, status));
  }

  forget(source: string): void {
    this.write(source, () => this.repo.forget(source));
  }

  /** Resolves once every write asked for so far is done (or failed and logged). */
  settled(): Promise<void> {
    return this.pending;
  }

  private write(source: string, op: () => Promise<void>): void {
    this.pending = this.pending.then(op).catch((err: unknown) => {
      this.log.warn({ file: source, err: (err as Error).message }, 'cannot record the workflow\'s definition or state in the store');
    });
  }
}
