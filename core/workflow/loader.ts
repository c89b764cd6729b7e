import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatProblem, locate, locateIssue, locateKey, syntaxProblems, type YamlProblem, type ZodIssueLike } from '../config/yaml-problems';
import type { AnyStep } from './step';
import { normaliseWorkflow, workflowSchema, type Workflow } from './schema';

/** One problem in a workflow file, located for the operator: file:line:column key: message. */
export type WorkflowProblem = YamlProblem;
export { formatProblem };

/**
 * A valid workflow may still deserve a warning (printed by `workflows check`, logged at load).
 * `locate` places a problem found later (a clash with another file) at its line in this file.
 */
export type WorkflowLoad =
  | { ok: true; workflow: Workflow; warnings: WorkflowProblem[]; locate(path: PropertyKey[], message: string): WorkflowProblem }
  | { ok: false; problems: WorkflowProblem[] };

/**
 * The flux handlers the server has loaded (HandlerRegistry: the built-in ones and the config's
 * `plugins:`). Given to the loader, a workflow whose handler step would find no handler is invalid.
 */
export interface HandlerCatalogue {
  manifest(flux: string): { profiles?: readonly string[] } | undefined;
  list(): ReadonlyArray<{ flux: string }>;
}

export function parseWorkflow(text: string, file: string, steps: readonly AnyStep[], handlers?: HandlerCatalogue): WorkflowLoad {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false, problems: syntaxProblems(doc, lineCounter, file) };
  const raw = (doc.toJS() ?? {}) as unknown;
  const result = workflowSchema(steps).safeParse(raw);
  if (!result.success) {
    const problems: WorkflowProblem[] = [];
    const stepsSeen = new Set<string>();
    for (const i of result.error.issues) {
      const issue = i as Issue;
      const [list, index] = i.path;
      if ((list === 'steps' || list === 'on-error') && typeof index === 'number') {
        // A step: say which one is wrong and why, rather than zod's "no union member matched".
        if (stepsSeen.has(`${list}.${index}`)) continue;
        stepsSeen.add(`${list}.${index}`);
        const entry = ((raw as Record<string, unknown[] | undefined>)[list] ?? [])[index];
        const found = diagnoseStep(entry, steps);
        problems.push(found.unknownKey !== undefined
          ? locateKey(doc, lineCounter, file, [list, index, ...found.path], found.unknownKey, found.message)
          : locate(doc, lineCounter, file, [list, index, ...found.path], found.message));
        continue;
      }
      problems.push(locateIssue(doc, lineCounter, file, issue));
    }
    return { ok: false, problems };
  }
  let workflow: Workflow;
  try {
    workflow = normaliseWorkflow(result.data, file);
  } catch (err) {
    return { ok: false, problems: [locate(doc, lineCounter, file, ['match', 'pattern'], (err as Error).message)] };
  }
  const at = (path: PropertyKey[], message: string): WorkflowProblem => locate(doc, lineCounter, file, path, message);
  const handlerProblem = handlers ? checkHandler(workflow, handlers, doc.has('handler')) : undefined;
  if (handlerProblem) return { ok: false, problems: [at(handlerProblem.path, handlerProblem.message)] };
  return { ok: true, workflow, warnings: encryptionWarnings(workflow, steps).map(({ path, message }) => at(path, message)), locate: at };
}

/** Why a step entry is invalid: an unknown name (with the known ones), the wrong shape, or which option is wrong. */
function diagnoseStep(entry: unknown, steps: readonly AnyStep[]): { path: PropertyKey[]; message: string; unknownKey?: string } {
  const known = steps.map((s) => s.name);
  const unknown = (name: string): string => {
    const near = known.find((k) => editDistance(k, name) <= 2);
    return `"${name}" is not a known step${near ? ` (did you mean "${near}"?)` : ''}; the steps are ${known.join(', ')}`;
  };
  const shape = 'a step is a name ("- report") or a map from one step name to its options ("- forward: { url: … }")';
  if (typeof entry === 'string') return { path: [], message: known.includes(entry) ? shape : unknown(entry) };
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return { path: [], message: `${shape}, not ${JSON.stringify(entry)}` };
  const keys = Object.keys(entry);
  if (keys.length !== 1) return { path: [], message: `${shape}; this map has ${keys.length} keys (${keys.map((k) => `"${k}"`).join(', ')})` };
  const name = keys[0];
  const step = steps.find((s) => s.name === name);
  if (!step) return { path: [], unknownKey: name, message: unknown(name) };
  const options = (entry as Record<string, unknown>)[name];
  const schema = step.options ?? z.strictObject({});
  const names = optionNames(schema);
  const offered = names.length > 0 ? `its options are ${names.join(', ')}` : 'it takes no options';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return { path: [name], message: `the options of step "${name}" must be a map (${offered}); for no options write "- ${name}"` };
  }
  const parsed = schema.safeParse(options);
  const issue = parsed.success ? undefined : (parsed.error.issues[0] as Issue | undefined);
  if (!issue) return { path: [name], message: `step "${name}" has invalid options (${offered})` };
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
    return { path: [name, ...issue.path], unknownKey: issue.keys[0], message: `step "${name}" has no option "${issue.keys[0]}" (${offered})` };
  }
  const option = issue.path.map(String).join('.');
  return { path: [name, ...issue.path], message: `step "${name}", option "${option}": ${issue.message}` };
}

function optionNames(schema: z.ZodType): string[] {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** A workflow whose handler step would find no handler (or one that does not serve its profile) is invalid. */
function checkHandler(workflow: Workflow, handlers: HandlerCatalogue, written: boolean): { path: PropertyKey[]; message: string } | undefined {
  if (![...workflow.steps, ...workflow.onError].some((s) => s.name === 'handler')) return undefined;
  const name = workflow.handler;
  const path = written ? ['handler'] : ['flux'];
  const manifest = handlers.manifest(name);
  if (!manifest) {
    const loaded = handlers.list().map((h) => h.flux).sort().join(', ');
    return { path, message: `no handler "${name}" is loaded${written ? '' : ' (the handler defaults to the flux; set handler: to name another)'}: `
      + `the loaded handlers are ${loaded}; a plugin's module must be listed under plugins: in the configuration` };
  }
  if (manifest.profiles && !manifest.profiles.includes(workflow.match.profile)) {
    return { path, message: `handler "${name}" serves ${manifest.profiles.join(' and ')} accounts only, not ${workflow.match.profile} (match.profile)` };
  }
  return undefined;
}

/**
 * Whether `candidate` would take files another workflow takes: the same flux for the same
 * profile, or the same directory of the same profile with the same pattern (or none), where
 * one of the two would win by chance. Workflows of one directory need distinct patterns.
 */
export function findClash(candidate: Workflow, others: Iterable<Workflow>, nameOf: (w: Workflow) => string): { path: PropertyKey[]; message: string } | undefined {
  for (const other of others) {
    if (other.source === candidate.source || other.match.profile !== candidate.match.profile) continue;
    if (other.flux === candidate.flux) {
      return { path: ['flux'], message: `flux "${candidate.flux}" is already defined by ${nameOf(other)}` };
    }
    const pattern = candidate.match.pattern?.source;
    if (other.match.directory === candidate.match.directory && other.match.pattern?.source === pattern) {
      return {
        path: ['match', 'directory'],
        message: `${candidate.match.profile} directory "${candidate.match.directory || '/'}"${pattern ? ` with pattern ${pattern}` : ''} is already served by `
          + `${nameOf(other)} (flux "${other.flux}"): two workflows cannot take the same files; give one another match.directory, or each a different match.pattern`,
      };
    }
  }
  return undefined;
}

/**
 * Two patterned workflows in one directory: regular expressions cannot be compared, so a name
 * both match is only found when such a file comes (FG_WORKFLOW_AMBIGUOUS, runner.ts). Said
 * when the files load, so the operator can check the patterns exclude each other.
 */
export function sharedDirectoryWarning(candidate: Workflow, others: Iterable<Workflow>, nameOf: (w: Workflow) => string): { path: PropertyKey[]; message: string } | undefined {
  if (!candidate.match.pattern) return undefined;
  const sharing = [...others].filter((o) => o.source !== candidate.source && o.match.pattern
    && o.match.profile === candidate.match.profile && o.match.directory === candidate.match.directory);
  if (sharing.length === 0) return undefined;
  const named = sharing.map((o) => `${nameOf(o)} (flux "${o.flux}", pattern ${o.match.pattern!.source})`).join(', ');
  return {
    path: ['match', 'pattern'],
    message: `${candidate.match.profile} directory "${candidate.match.directory || '/'}" is shared with ${named}: make sure no file name `
      + 'matches both patterns; such a file is rejected with FG_WORKFLOW_AMBIGUOUS and kept',
  };
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
    return [{ path: ['steps', decryptAt], message: `decrypt comes after "${workflow.steps[firstContent].name}": an encrypted upload reaches that step `
      + 'before it is decrypted and is dead with FG_WORKFLOW_INVALID. Move "- decrypt" right after check-name' }];
  }
  return [];
}

export function loadWorkflowFile(file: string, steps: readonly AnyStep[], handlers?: HandlerCatalogue): WorkflowLoad {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ file, message: `cannot read: ${(err as Error).message}` }] };
  }
  return parseWorkflow(text, file, steps, handlers);
}

export interface DirectoryLoad {
  workflows: Workflow[];
  problems: WorkflowProblem[];
  /** About valid workflows (loaded all the same). */
  warnings: WorkflowProblem[];
  files: string[];
}

/**
 * Loads every *.yaml / *.yml below dir; two files claiming the same flux, or the same files
 * (findClash), is a problem of the later one (in name order), which is not loaded.
 */
export function loadWorkflowDir(dir: string, steps: readonly AnyStep[], handlers?: HandlerCatalogue): DirectoryLoad {
  const files = listWorkflowFiles(dir);
  const workflows: Workflow[] = [];
  const problems: WorkflowProblem[] = [];
  const warnings: WorkflowProblem[] = [];
  for (const file of files) {
    const load = loadWorkflowFile(file, steps, handlers);
    if (!load.ok) { problems.push(...load.problems); continue; }
    const clash = findClash(load.workflow, workflows, (w) => relative(dir, w.source));
    if (clash) {
      problems.push(load.locate(clash.path, clash.message));
      continue;
    }
    const shared = sharedDirectoryWarning(load.workflow, workflows, (w) => relative(dir, w.source));
    workflows.push(load.workflow);
    warnings.push(...load.warnings);
    if (shared) warnings.push(load.locate(shared.path, shared.message));
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

type Issue = ZodIssueLike;
