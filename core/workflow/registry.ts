import { existsSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../logging/logger';
import type { JournalFile } from '../store/journal-repository';
import type { Service } from '../tokens';
import { findClash, formatProblem, loadWorkflowDir, loadWorkflowFile, sharedDirectoryWarning, type HandlerCatalogue, type WorkflowProblem } from './loader';
import type { Workflow } from './schema';
import type { AnyStep } from './step';

export class StepRegistry {
  private readonly byName = new Map<string, AnyStep>();

  constructor(steps: readonly AnyStep[]) {
    for (const s of steps) {
      if (this.byName.has(s.name)) throw new Error(`two workflow steps are named "${s.name}"`);
      this.byName.set(s.name, s);
    }
  }

  get(name: string): AnyStep | undefined { return this.byName.get(name); }
  get all(): AnyStep[] { return [...this.byName.values()]; }
}

/**
 * The workflows of workflows/ (or config workflowsDir). Each file's last good definition stays
 * active: a broken edit is logged and ignored until fixed. Hot-reloaded while the server runs.
 */
export class WorkflowRegistry implements Service {
  readonly name = 'workflows';
  private readonly byFile = new Map<string, Workflow>();
  private watcher?: FSWatcher;
  readonly problems: WorkflowProblem[] = [];

  /** `handlers`: the loaded flux handlers a workflow's handler step must find (the server always gives them). */
  constructor(readonly dir: string, private readonly steps: StepRegistry, private readonly log: Logger, private readonly watchForChanges = true,
    private readonly handlers?: HandlerCatalogue) {
    if (!existsSync(dir)) {
      this.log.warn({ dir }, 'the workflows directory does not exist: no file will be processed');
      return;
    }
    const load = loadWorkflowDir(dir, steps.all, handlers);
    for (const w of load.workflows) this.byFile.set(w.source, w);
    this.problems.push(...load.problems);
    for (const p of load.problems) this.log.error({ file: p.file, line: p.line, key: p.key }, `invalid workflow, not loaded: ${formatProblem(p)}`);
    for (const w of load.warnings) this.log.warn({ file: w.file, line: w.line, key: w.key }, `workflow warning: ${formatProblem(w)}`);
    this.log.info({ dir, workflows: load.workflows.map((w) => w.flux) }, 'workflows loaded');
  }

  async start(): Promise<void> {
    if (!this.watchForChanges || !existsSync(this.dir)) return;
    this.watcher = watch(this.dir, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 } });
    // Hidden names are never workflows (listWorkflowFiles skips them): an editor's or an atomic write's temporary file.
    const onChange = (file: string): void => { if (/\.ya?ml$/.test(file) && !basename(file).startsWith('.')) this.reload(file); };
    this.watcher.on('add', onChange).on('change', onChange).on('unlink', (file) => {
      // Editors often save by deleting and re-creating: only forget a workflow whose file stays gone.
      setTimeout(() => {
        if (!existsSync(file) && this.byFile.delete(file)) this.log.info({ file }, 'workflow file removed: its workflow is no longer active');
      }, 1000).unref();
    });
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
  }

  /** Re-reads one file; keeps the previous definition when the new one is invalid. */
  reload(file: string): boolean {
    const load = loadWorkflowFile(file, this.steps.all, this.handlers);
    let problems = load.ok ? [] : load.problems;
    if (load.ok) {
      const clash = findClash(load.workflow, [...this.byFile.values()].filter((w) => w.source !== file), (w) => relative(this.dir, w.source));
      if (clash) problems = [load.locate(clash.path, clash.message)];
    }
    if (problems.length > 0 || !load.ok) {
      const kept = this.byFile.has(file);
      for (const p of problems) {
        this.log.error({ file, line: p.line, key: p.key, keptPrevious: kept },
          `workflow edit rejected, ${kept ? 'the last good definition stays active' : 'not loaded'}: ${formatProblem(p)}`);
      }
      return false;
    }
    this.byFile.set(file, load.workflow);
    this.log.info({ file, flux: load.workflow.flux }, 'workflow reloaded');
    const shared = sharedDirectoryWarning(load.workflow, this.byFile.values(), (w) => relative(this.dir, w.source));
    for (const w of shared ? [...load.warnings, load.locate(shared.path, shared.message)] : load.warnings) {
      this.log.warn({ file: w.file, line: w.line, key: w.key }, `workflow warning: ${formatProblem(w)}`);
    }
    return true;
  }

  get all(): Workflow[] { return [...this.byFile.values()]; }

  byFlux(flux: string, profile?: 'exchange' | 'dropbox'): Workflow | undefined {
    return this.all.find((w) => w.flux === flux && (!profile || w.match.profile === profile));
  }

  /**
   * Every workflow that would take a file at an account-relative path: those whose pattern
   * matches the name, else the directory's one without a pattern. More than one means the
   * patterns overlap on this name, which the loader cannot rule out for regular expressions.
   */
  matching(profile: 'exchange' | 'dropbox', relativePath: string): Workflow[] {
    const dir = dirname(relativePath) === '.' ? '' : dirname(relativePath);
    const name = basename(relativePath);
    const candidates = this.all.filter((w) => w.match.profile === profile && w.match.directory === dir && (!w.match.pattern || w.match.pattern.test(name)));
    const patterned = candidates.filter((w) => w.match.pattern);
    return patterned.length > 0 ? patterned : candidates;
  }

  /** The one workflow for a file; undefined when none or several match (see `matching`). */
  match(profile: 'exchange' | 'dropbox', relativePath: string): Workflow | undefined {
    const found = this.matching(profile, relativePath);
    return found.length === 1 ? found[0] : undefined;
  }

  /**
   * The workflow of a journal file: the one intake routed it to (its flux), else the one its
   * path matches now (a file no workflow took, replayed once the workflows were fixed). The
   * runner and the file's queue job (its attempts) both go by this.
   */
  forFile(file: Pick<JournalFile, 'profile' | 'workflow' | 'originalPath'>): Workflow | undefined {
    if (!file.profile) return undefined;
    return (file.workflow ? this.byFlux(file.workflow, file.profile) : undefined) ?? this.match(file.profile, file.originalPath);
  }
}
