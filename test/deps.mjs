// `npm run deps`: the architecture rules of .dependency-cruiser.cjs (docs/architecture.md) over
// the sources, less the violations listed in .dependency-cruiser-known-violations.json.
// dependency-cruiser's own --ignore-known skips the listed module violations but not folder
// ones (no-folder-cycles), so the folder ones are taken out here. What is left is printed as
// dependency-cruiser's `err` reporter does, and fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const DIRS = ['core', 'plugins', 'examples', 'bench', 'bin'];
const KNOWN_FILE = '.dependency-cruiser-known-violations.json';

/** One violation as a comparable string: rule, ends, and the cycle's path when there is one. */
const identity = (v) => JSON.stringify([v.rule.name, v.from, v.to, (v.cycle ?? []).map((step) => step.name)]);

// From npm's PATH (node_modules/.bin): `npm run deps`.
const cruise = spawnSync('depcruise', [...DIRS, '--config', '.dependency-cruiser.cjs', '--ignore-known', '--output-type', 'json'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
if (cruise.error || cruise.stdout === '') {
  process.stderr.write(`dependency-cruiser did not run (${cruise.error?.message ?? `exit ${cruise.status}`}): run this through npm run deps\n${cruise.stderr ?? ''}`);
  process.exit(1);
}
const { summary } = JSON.parse(cruise.stdout);
const known = new Set(existsSync(KNOWN_FILE) ? JSON.parse(readFileSync(KNOWN_FILE, 'utf8')).map(identity) : []);
// Module violations listed there are already softened to `ignore` by --ignore-known.
const found = summary.violations.filter((v) => v.rule.severity !== 'ignore');
const listed = found.filter((v) => known.has(identity(v)));
const left = found.filter((v) => !known.has(identity(v)));

for (const v of left) {
  const path = v.cycle?.length ? [v.from, ...v.cycle.map((step) => step.name)] : [v.from, v.to];
  process.stdout.write(`  ${v.rule.severity} ${v.rule.name}: ${path.join(' → ')}\n`);
}
const counted = `${summary.totalCruised} modules, ${summary.totalDependenciesCruised} dependencies cruised`;
const ignored = summary.ignore + listed.length;
const knownNote = ignored ? `; ${ignored} known violations ignored (${KNOWN_FILE}, docs/architecture.md)` : '';
const errors = left.filter((v) => v.rule.severity === 'error').length;
process.stdout.write(left.length
  ? `\n✘ ${left.length} dependency violations (${errors} errors): ${counted}${knownNote}\n`
  : `✔ no dependency violations found: ${counted}${knownNote}\n`);
process.exit(errors > 0 ? 1 : 0);
