/**
 * Parent links of the organizations a sir file sends, checked against those already known:
 * an unknown parent, an organization that is its own parent, and cycles are rejected.
 * Rejecting one organization can orphan its children in the file, so this runs to a fixpoint.
 */
export interface GraphProblem { code: 'FG_UNKNOWN_REF' | 'FG_CYCLE'; message: string }

export function checkParents(
  incoming: ReadonlyMap<string, string | null>,
  existing: ReadonlyMap<string, string | null>,
): Map<string, GraphProblem> {
  const problems = new Map<string, GraphProblem>();
  const accepted = () => [...incoming.keys()].filter((code) => !problems.has(code));
  const parentOf = (code: string): string | null | undefined =>
    incoming.has(code) && !problems.has(code) ? incoming.get(code) : existing.get(code);

  for (const code of accepted()) {
    if (incoming.get(code) === code) problems.set(code, { code: 'FG_CYCLE', message: `organization ${code} is its own parent` });
  }
  for (;;) {
    const before = problems.size;
    for (const code of accepted()) {
      const parent = incoming.get(code);
      if (parent && parentOf(parent) === undefined) {
        const why = incoming.has(parent) ? 'is rejected in this file' : 'does not exist in this file or in the directory';
        problems.set(code, { code: 'FG_UNKNOWN_REF', message: `parent_organization_code '${parent}' ${why}` });
      }
    }
    for (const code of accepted()) {
      const path: string[] = [code];
      for (let p = parentOf(code); p; p = parentOf(p)) {
        const at = path.indexOf(p);
        if (at !== -1) {
          const cycle = [...path.slice(at), p];
          for (const member of path.slice(at)) {
            if (incoming.has(member) && !problems.has(member)) {
              problems.set(member, { code: 'FG_CYCLE', message: `the parent links form a cycle: ${cycle.join(' → ')}` });
            }
          }
          break;
        }
        path.push(p);
      }
    }
    if (problems.size === before) return problems;
  }
}
