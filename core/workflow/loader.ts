import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import type { AnyStep } from './step';
import { normaliseWorkflow, workflowSchema, type Workflow } from './schema';

/** One problem in a workflow file, located for the operator: file:line:column key: message. */
export interface WorkflowProblem {
  file: string;
  line?: number;
  column?: number;
  /** Dotted key path (`steps.2.forward.url`). */
  key?: string;
  message: string;
}

/** A valid workflow may still deserve a warning (printed by `workflows check`, logged at load). */
export type WorkflowLoad = { ok: true; workflow: Workflow; warnings: WorkflowProblem[] } | { ok: false; problems: WorkflowProblem[] };

export function formatProblem(p: WorkflowProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}${p.key ? ` ${p.key}` : ''}: ${p.message}`;
}

export function parseWorkflow(text: string, file: string, steps: readonly AnyStep[]): WorkflowLoad {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, message: e.message.split('\n')[0]! };
      }),
    };
  }
  const result = workflowSchema(steps).safeParse(doc.toJS() ?? {});
  if (!result.success) {
    return { ok: false, problems: result.error.issues.map((i) => {
        const issue = i as Issue;
        // An unknown key is best shown at the key itself, not at its parent object.
        if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
          return locateKey(doc, lineCounter, file, i.path, issue.keys[0]!, issueMessage(issue));
        }
        return locate(doc, lineCounter, file, i.path, issueMessage(issue));
      }) };
  }
  let workflow: Workflow;
  try {
    workflow = normaliseWorkflow(result.data, file);
  } catch (err) {
    return { ok: false, problems: [locate(doc, lineCounter, file, ['match', 'pattern'], (err as Error).message)] };
  }
  return { ok: true, workflow, warnings: encryptionWarnings(workflow, steps).map(({ path, message }) => locate(doc, lineCounter, file, path, message)) };
}

/**
 * A workflow whose steps cannot decrypt: the engine still applies the account's encryption
 * requirement (runner.ts), but such a workflow processes no encrypted file, and none at all
 * for accounts that require encryption. Legitimate (a flux that is never encrypted), so a
 * warning, not a problem.
 */
function encryptionWarnings(workflow: Workflow, steps: readonly AnyStep[]): Array<{ path: PropertyKey[]; message: string }> {
  const stageOf = (name: string) => steps.find((s) => s.name === name)?.stage;
  const decryptAt = workflow.steps.findIndex((s) => stageOf(s.name) === 'decrypt');
  const firstContent = workflow.steps.findIndex((s) => stageOf(s.name) === undefined);
  if (decryptAt < 0) {
    return [{ path: ['steps'], message: 'no decrypt step: an encrypted upload (.pgp/.gpg, or PGP content under any name) is not decrypted '
      + 'and is dead with FG_WORKFLOW_INVALID; accounts that require encryption (fluxgate pgp require-encryption) therefore get no file '
      + 'of this flux through (plain ones are rejected with FG_ENCRYPTION_REQUIRED). Add "- decrypt" after check-name unless this flux is never encrypted' }];
  }
  if (firstContent >= 0 && firstContent < decryptAt) {
    return [{ path: ['steps', decryptAt], message: `decrypt comes after "${workflow.steps[firstContent]!.name}": an encrypted upload reaches that step `
      + 'before it is decrypted and is dead with FG_WORKFLOW_INVALID. Move "- decrypt" right after check-name' }];
  }
  return [];
}

export function loadWorkflowFile(file: string, steps: readonly AnyStep[]): WorkflowLoad {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ file, message: `cannot read: ${(err as Error).message}` }] };
  }
  return parseWorkflow(text, file, steps);
}

export interface DirectoryLoad {
  workflows: Workflow[];
  problems: WorkflowProblem[];
  /** About valid workflows (loaded all the same). */
  warnings: WorkflowProblem[];
  files: string[];
}

/** Loads every *.yaml / *.yml below dir; two files claiming the same flux is a problem of the later one. */
export function loadWorkflowDir(dir: string, steps: readonly AnyStep[]): DirectoryLoad {
  const files = listWorkflowFiles(dir);
  const workflows: Workflow[] = [];
  const problems: WorkflowProblem[] = [];
  const warnings: WorkflowProblem[] = [];
  for (const file of files) {
    const load = loadWorkflowFile(file, steps);
    if (!load.ok) { problems.push(...load.problems); continue; }
    const clash = workflows.find((w) => w.flux === load.workflow.flux && w.match.profile === load.workflow.match.profile);
    if (clash) {
      problems.push({ file, key: 'flux', message: `flux "${load.workflow.flux}" is already defined by ${relative(dir, clash.source)}` });
      continue;
    }
    workflows.push(load.workflow);
    warnings.push(...load.warnings);
  }
  return { workflows, problems, warnings, files };
}

export function listWorkflowFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

type Issue = { path: PropertyKey[]; message: string; code?: string; keys?: string[] };

function issueMessage(i: Issue): string {
  if (i.code === 'unrecognized_keys' && i.keys) return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
  if (i.code === 'invalid_union') return 'not a known step, or a step with invalid options (see workflow.schema.json for the steps)';
  return i.message;
}

/** Finds the deepest YAML node along the issue's path to report its line. */
function locate(doc: Document, lc: LineCounter, file: string, path: readonly PropertyKey[], message: string): WorkflowProblem {
  const keys = path.map((k) => (typeof k === 'number' ? k : String(k)));
  for (let n = keys.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      return { file, line: pos.line, column: pos.col, key: keys.join('.') || undefined, message };
    }
  }
  return { file, key: keys.join('.') || undefined, message };
}

/** An unknown key is best shown at the key itself, not at its parent object or its value. */
function locateKey(doc: Document, lc: LineCounter, file: string, parent: readonly PropertyKey[], key: string, message: string): WorkflowProblem {
  const keys = parent.map((k) => (typeof k === 'number' ? k : String(k)));
  const node = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair && isNode(pair.key) && pair.key.range) {
      const pos = lc.linePos(pair.key.range[0]);
      return { file, line: pos.line, column: pos.col, key: [...keys, key].join('.'), message };
    }
  }
  return locate(doc, lc, file, [...parent, key], message);
}
