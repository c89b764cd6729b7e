import { LineCounter, parseDocument, type Document } from 'yaml';
import { applyOverrides, envOverrides, type EnvOverride } from './env';
import { configSchema, type FluxgateConfig } from './schema';
import { issueMessage, locateIssue, syntaxProblems, type YamlProblem, type ZodIssueLike } from './yaml-problems';

export interface ConfigCheck {
  /** The validated configuration (paths not yet resolved), when there is no problem. */
  config?: FluxgateConfig;
  problems: YamlProblem[];
  /** The environment variables that set keys, and which. */
  overrides: EnvOverride[];
}

const isPrefix = (prefix: readonly string[], path: readonly PropertyKey[]): boolean =>
  prefix.every((k, i) => String(path[i]) === k);

/**
 * Validates a config file's text (none: the embedded defaults) with the environment's
 * overrides over it. Each problem says where: the file's line and column and the key, or the
 * variable that set the bad value; and what was expected (zod's message, or the known keys).
 */
export function checkConfig(text: string | undefined, file: string | undefined, env: NodeJS.ProcessEnv = process.env): ConfigCheck {
  const where = file ?? 'embedded defaults';
  const lc = new LineCounter();
  const doc: Document | undefined = text === undefined ? undefined : parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc && doc.errors.length > 0) return { problems: syntaxProblems(doc, lc, where), overrides: [] };
  const raw = (doc?.toJS() ?? {}) as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problems: [{ file: where, line: 1, column: 1, message: `the configuration is a map of keys (sftp:, engine:, …), not ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}` }], overrides: [] };
  }
  const { overrides, problems } = envOverrides(env);
  const result = configSchema.safeParse(applyOverrides(raw as Record<string, unknown>, overrides));
  if (result.success) return problems.length ? { problems, overrides } : { config: result.data, problems, overrides };
  for (const i of result.error.issues) {
    const issue = i as ZodIssueLike;
    // Deepest override first: a variable set under another one's path owns its own value.
    const from = [...overrides].reverse().find((o) => isPrefix(o.path, issue.path));
    if (from) problems.push({ file: `environment variable ${from.variable}`, key: issue.path.map(String).join('.') || undefined, message: issueMessage(issue) });
    else if (doc) problems.push(locateIssue(doc, lc, where, issue));
    else problems.push({ file: where, key: issue.path.map(String).join('.') || undefined, message: issueMessage(issue) });
  }
  return { problems, overrides };
}
