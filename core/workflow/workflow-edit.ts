import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomicSync } from '../atomic-write';
import { FluxgateError } from '../errors';
import { findClash, formatProblem, listWorkflowFiles, loadWorkflowDir, parseWorkflow, sharedDirectoryWarning, type HandlerCatalogue, type WorkflowProblem } from './loader';
import type { AnyStep } from './step';

/** A workflow's name: its file's path under the workflows directory without `.yaml` (`sal`, `rpa/emp`). */
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}(\/[a-z0-9][a-z0-9_-]{0,63})?$/i;

export interface WorkflowCheck { name: string; file: string; valid: boolean; problems: WorkflowProblem[]; warnings: WorkflowProblem[] }

export interface WorkflowSources { dir: string; steps: readonly AnyStep[]; handlers?: HandlerCatalogue }

export function workflowNameOf(dir: string, file: string): string {
  return relative(dir, file).replace(/\.ya?ml$/, '');
}

/** The file of a workflow name (the existing .yml if there is one, else `<name>.yaml`); refuses names that leave the directory. */
export function workflowFile(dir: string, name: string): string {
  if (!NAME.test(name)) {
    throw new FluxgateError('FG_BAD_REQUEST', `"${name}" is not a workflow name: use the file's path under the workflows directory without .yaml (sal, rpa/emp)`);
  }
  const yml = join(dir, `${name}.yml`);
  return existsSync(yml) ? yml : join(dir, `${name}.yaml`);
}

export function readWorkflowSource(dir: string, name: string): { name: string; file: string; source: string } {
  const file = workflowFile(dir, name);
  if (!existsSync(file)) throw new FluxgateError('FG_NO_SUCH_FILE', `no workflow "${name}" in ${dir}`, { name });
  return { name, file, source: readFileSync(file, 'utf8') };
}

export function listWorkflowNames(dir: string): string[] {
  return existsSync(dir) ? listWorkflowFiles(dir).map((f) => workflowNameOf(dir, f)) : [];
}

/**
 * Checks a proposed source for a workflow as `workflows check` would check the directory with
 * it in place: the same loader, the same messages (located in the real file), the same clash
 * and shared-directory rules against the other files.
 */
export function checkWorkflowSource(src: WorkflowSources, name: string, source: string): WorkflowCheck {
  const file = workflowFile(src.dir, name);
  const load = parseWorkflow(source, file, src.steps, src.handlers);
  if (!load.ok) return { name, file, valid: false, problems: load.problems, warnings: [] };
  const others = existsSync(src.dir) ? loadWorkflowDir(src.dir, src.steps, src.handlers).workflows.filter((w) => w.source !== file) : [];
  const nameOf = (w: { source: string }): string => relative(src.dir, w.source);
  const clash = findClash(load.workflow, others, nameOf);
  if (clash) return { name, file, valid: false, problems: [load.locate(clash.path, clash.message)], warnings: load.warnings };
  const shared = sharedDirectoryWarning(load.workflow, others, nameOf);
  return { name, file, valid: true, problems: [], warnings: shared ? [...load.warnings, load.locate(shared.path, shared.message)] : load.warnings };
}

/**
 * Replaces (or creates) a workflow file once its source is valid; refused with FG_WORKFLOW_INVALID
 * and the problems otherwise, the file untouched. Written to a temporary name then renamed, so
 * the server's watcher never reads half a file; `reload` (the running registry's) applies it at once.
 */
export function replaceWorkflowSource(src: WorkflowSources, name: string, source: string, reload?: (file: string) => boolean): WorkflowCheck & { reloaded: boolean } {
  const check = checkWorkflowSource(src, name, source);
  if (!check.valid) {
    throw new FluxgateError('FG_WORKFLOW_INVALID', `workflow ${name} is invalid, nothing changed: ${check.problems.map(formatProblem).join('; ')}`, { problems: check.problems });
  }
  mkdirSync(dirname(check.file), { recursive: true });
  writeFileAtomicSync(check.file, source, { mode: 0o644 });
  return { ...check, reloaded: reload ? reload(check.file) : false };
}

