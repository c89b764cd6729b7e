import { LineCounter, isMap, isNode, isScalar, type Document } from 'yaml';

/**
 * One problem in a YAML file an operator edits (a workflow, the config), located for them:
 * file:line:column key: message. Shared by `workflows check` and `config check` so both say
 * where and what in the same words.
 */
export interface YamlProblem {
  file: string;
  line?: number;
  column?: number;
  /** Dotted key path (`steps.2.forward.url`, `sftp.port`). */
  key?: string;
  message: string;
}

export function formatProblem(p: YamlProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}${p.key ? ` ${p.key}` : ''}: ${p.message}`;
}

/** YAML syntax errors of a parsed document, at their line. */
export function syntaxProblems(doc: Document, lc: LineCounter, file: string): YamlProblem[] {
  return doc.errors.map((e) => {
    const pos = lc.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, message: e.message.split('\n')[0] };
  });
}

export type ZodIssueLike = { path: PropertyKey[]; message: string; code?: string; keys?: string[] };

export function issueMessage(i: ZodIssueLike): string {
  if (i.code === 'unrecognized_keys' && i.keys) return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
  return i.message;
}

/** Finds the deepest YAML node along the issue's path to report its line. */
export function locate(doc: Document, lc: LineCounter, file: string, path: readonly PropertyKey[], message: string): YamlProblem {
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
export function locateKey(doc: Document, lc: LineCounter, file: string, parent: readonly PropertyKey[], key: string, message: string): YamlProblem {
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

/** A zod issue placed in the document: unknown keys at the key, anything else at the deepest node on its path. */
export function locateIssue(doc: Document, lc: LineCounter, file: string, issue: ZodIssueLike): YamlProblem {
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) return locateKey(doc, lc, file, issue.path, issue.keys[0], issueMessage(issue));
  return locate(doc, lc, file, issue.path, issueMessage(issue));
}
