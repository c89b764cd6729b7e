import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../logging/logger';
import type { JournalFile } from '../store/journal-repository';
import type { Service } from '../tokens';
import { findClash, formatProblem, loadWorkflowDir, loadWorkflowFile, parseWorkflow, sharedDirectoryWarning, type HandlerCatalogue, type WorkflowProblem } from './loader';
import type { Workflow } from './schema';
import type { AnyStep } from './step';
import type { WorkflowVersionStore } from './workflow-versions';

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
 * With a version store, the last good definition outlives a restart too: a file that fails
 * validation at start-up runs on the definition saved the last time it was valid, and each
 * file's state (its own definition, the last good one, none) is kept there for `workflows status`.
 */
export class WorkflowRegistry implements Service {
  readonly name = 'workflows';
  private readonly byFile = new Map<string, Workflow>();
  private watcher?: FSWatcher;
  readonly problems: WorkflowProblem[] = [];
  /** Called with each workflow a reload made active (its declared folders: composition/engine.ts). */
  readonly onReload: Array<(workflow: Workflow) => void> = [];

  /** `handlers`: the loaded flux handlers a workflow's handler step must find (the server always gives them). */
  constructor(readonly dir: string, private readonly steps: StepRegistry, private readonly log: Logger, private readonly watchForChanges = true,
    private readonly handlers?: HandlerCatalogue, private readonly versions?: WorkflowVersionStore) {
    if (!existsSync(dir)) {
      this.log.warn({ dir }, 'the workflows directory does not exist: no file will be processed');
      return;
    }
    const load = loadWorkflowDir(dir, steps.all, handlers);
    for (const w of load.workflows) {
      this.byFile.set(w.source, w);
      this.remember(w);
    }
    this.problems.push(...load.problems);
    const failed = new Map<string, WorkflowProblem[]>();
    for (const p of load.problems) failed.set(p.file, [...failed.get(p.file) ?? [], p]);
    for (const [file, problems] of failed) this.fallBack(file, problems);
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
        if (existsSync(file)) return;
        this.versions?.forget(file);
        if (this.byFile.delete(file)) this.log.info({ file }, 'workflow file removed: its workflow is no longer active');
      }, 1000).unref();
    });
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
    await this.versions?.settled();
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
      this.versions?.setStatus(file, {
        flux: this.byFile.get(file)?.flux, state: kept ? 'last-good' : 'not-loaded',
        problem: problems.map(formatProblem).join('; '), goodSha256: kept ? this.versions.lastGood(file)?.sha256 : undefined,
      });
      for (const p of problems) {
        this.log.error({ file, line: p.line, key: p.key, keptPrevious: kept },
          `workflow edit rejected, ${kept ? 'the last good definition stays active' : 'not loaded'}: ${formatProblem(p)}`);
      }
      return false;
    }
    this.byFile.set(file, load.workflow);
    this.remember(load.workflow);
    this.log.info({ file, flux: load.workflow.flux }, 'workflow reloaded');
    for (const listener of this.onReload) listener(load.workflow);
    const shared = sharedDirectoryWarning(load.workflow, this.byFile.values(), (w) => relative(this.dir, w.source));
    for (const w of shared ? [...load.warnings, load.locate(shared.path, shared.message)] : load.warnings) {
      this.log.warn({ file: w.file, line: w.line, key: w.key }, `workflow warning: ${formatProblem(w)}`);
    }
    return true;
  }

  /** A valid definition: saved as the file's last good one, and what runs for it. */
  private remember(w: Workflow): void {
    if (!this.versions) return;
    try {
      this.versions.saveGood(w.source, w.flux, readFileSync(w.source, 'utf8'));
      this.versions.setStatus(w.source, { flux: w.flux, state: 'file' });
    } catch (err) {
      this.log.warn({ file: w.source, err: (err as Error).message }, 'cannot save the workflow\'s definition as its last good one');
    }
  }

  /**
   * A file invalid at start-up: its last good definition, if the store has one that still
   * validates (against today's steps and handlers) and takes no other workflow's files, runs
   * instead, with an error in the log; else nothing runs for it.
   */
  private fallBack(file: string, problems: WorkflowProblem[]): void {
    const why = problems.map(formatProblem).join('; ');
    const good = this.versions?.lastGood(file);
    const load = good ? parseWorkflow(good.content, file, this.steps.all, this.handlers) : undefined;
    const clash = load?.ok ? findClash(load.workflow, this.byFile.values(), (w) => relative(this.dir, w.source)) : undefined;
    if (good && load?.ok && !clash) {
      this.byFile.set(file, load.workflow);
      this.versions!.setStatus(file, { flux: load.workflow.flux, state: 'last-good', problem: why, goodSha256: good.sha256 });
      this.log.error({ file, flux: load.workflow.flux, savedAt: new Date(good.savedAt).toISOString(), problems: problems.map(formatProblem) },
        `invalid workflow at start-up: its last good definition (saved ${new Date(good.savedAt).toISOString()}) runs instead until the file is fixed: ${why}`);
      return;
    }
    this.versions?.setStatus(file, { state: 'not-loaded', problem: why });
    for (const p of problems) this.log.error({ file: p.file, line: p.line, key: p.key }, `invalid workflow, not loaded: ${formatProblem(p)}`);
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
