import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatProblem, loadWorkflowDir, parseWorkflow } from '../../core/workflow/loader';
import { workflowJsonSchema } from '../../core/workflow/json-schema';
import { BUILTIN_STEPS } from '../../core/workflow/steps';
import { REPO_ROOT } from '../helpers/server';

const parse = (text: string) => parseWorkflow(text, '/w/x.yaml', BUILTIN_STEPS);

describe('workflow definitions', () => {
  test('every shipped workflow is valid and each exchange flux serves in/<flux>', () => {
    const load = loadWorkflowDir(join(REPO_ROOT, 'workflows'), BUILTIN_STEPS);
    assert.deepEqual(load.problems.map(formatProblem), []);
    const fluxes = load.workflows.map((w) => w.flux).sort();
    for (const f of ['sal', 'sir', 'usr', 'dis', 'dropbox', 'sig', 'pro', 'rpa/emp', 'rpa/gen', 'rpa/prc', 'rpa/req', 'rpa/sig']) assert.ok(fluxes.includes(f), f);
    const sal = load.workflows.find((w) => w.flux === 'sal')!;
    assert.equal(sal.match.directory, 'in/sal');
    assert.equal(sal.report.directory, 'out/sal');
    assert.deepEqual(sal.steps.map((s) => s.name), ['receipt', 'check-name', 'decrypt', 'handler', 'report', 'archive']);
    assert.equal(load.workflows.find((w) => w.flux === 'dropbox')!.match.profile, 'dropbox');
  });

  test('defaults: directory, handler, naming flux, on-error', () => {
    const r = parse('flux: rpa/emp\nsteps: [receipt, {forward: {directory: /tmp/x}}]\n');
    assert.ok(r.ok);
    assert.equal(r.workflow.match.directory, 'in/rpa/emp');
    assert.equal(r.workflow.handler, 'rpa/emp');
    assert.deepEqual(r.workflow.naming.flux, ['emp']);
    assert.deepEqual(r.workflow.onError.map((s) => s.name), ['report', 'quarantine']);
    assert.deepEqual(r.workflow.steps[1], { name: 'forward', options: { directory: '/tmp/x', timeoutMs: 30_000 } });
  });

  test('errors name the file, the line and the key', () => {
    const r = parse('flux: sal\nsteps:\n  - receipt\n  - hander\nretry:\n  attempts: 0\n');
    assert.equal(r.ok, false);
    if (r.ok) return;
    const text = r.problems.map(formatProblem);
    assert.ok(text.some((t) => /^\/w\/x\.yaml:4:5 steps\.1: not a known step/.test(t)), text.join('\n'));
    assert.ok(text.some((t) => /^\/w\/x\.yaml:6:13 retry\.attempts: /.test(t)), text.join('\n'));
  });

  test('an unknown key is reported at the key itself', () => {
    const r = parse('flux: sal\nsteps: [receipt]\nreport:\n  dir: out/x\n');
    assert.ok(!r.ok);
    if (r.ok) return;
    assert.equal(formatProblem(r.problems[0]!), '/w/x.yaml:4:3 report.dir: unknown key "dir"');
  });

  test('step options are validated (forward url must be a URL)', () => {
    const r = parse('flux: sig\nsteps:\n  - forward:\n      url: not a url\n');
    assert.ok(!r.ok);
  });

  test('YAML syntax errors carry a line', () => {
    const r = parse('flux: sal\nsteps: [receipt\n');
    assert.ok(!r.ok && r.problems[0]!.line !== undefined);
  });

  test('a bad name pattern is a located problem, not a crash', () => {
    const r = parse("flux: sal\nmatch:\n  pattern: '('\nsteps: [receipt]\n");
    assert.ok(!r.ok);
    if (r.ok) return;
    assert.equal(r.problems[0]!.key, 'match.pattern');
    assert.equal(r.problems[0]!.line, 3);
  });

  test('the checked-in JSON Schema is the one generated from the zod source', () => {
    const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'workflows', 'workflow.schema.json'), 'utf8')) as unknown;
    assert.deepEqual(committed, JSON.parse(JSON.stringify(workflowJsonSchema(BUILTIN_STEPS))),
      'workflows/workflow.schema.json is stale: run npm run workflows:schema');
  });
});
