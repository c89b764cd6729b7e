import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BUILTIN_HANDLERS } from '../../plugins';
import { pluginContainer } from '../../core/composition/plugins';
import { configSchema } from '../../core/config/schema';
import { silentLogger } from '../../core/logging/logger';
import { HandlerRegistry } from '../../core/workflow/handler-registry';
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
    assert.ok(text.includes('/w/x.yaml:4:5 steps.1: "hander" is not a known step (did you mean "handler"?); '
      + 'the steps are receipt, check-name, decrypt, handler, report, archive, quarantine, forward'), text.join('\n'));
    assert.ok(text.some((t) => /^\/w\/x\.yaml:6:13 retry\.attempts: /.test(t)), text.join('\n'));
  });

  test('an unknown key is reported at the key itself', () => {
    const r = parse('flux: sal\nsteps: [receipt]\nreport:\n  dir: out/x\n');
    assert.ok(!r.ok);
    if (r.ok) return;
    assert.equal(formatProblem(r.problems[0]), '/w/x.yaml:4:3 report.dir: unknown key "dir"');
  });

  test('step options are validated, and the wrong option is named at its line', () => {
    const problems = (text: string) => { const r = parse(text); assert.ok(!r.ok); return r.ok ? [] : r.problems.map(formatProblem); };
    assert.deepEqual(problems('flux: sig\nsteps:\n  - forward:\n      url: not a url\n'),
      ['/w/x.yaml:4:12 steps.0.forward.url: step "forward", option "url": Invalid URL']);
    assert.deepEqual(problems('flux: sig\nsteps:\n  - receipt\n  - decrypt: { require: true }\n'),
      ['/w/x.yaml:4:16 steps.1.decrypt.require: step "decrypt" has no option "require" (its options are required)']);
    assert.deepEqual(problems('flux: sig\nsteps: [receipt]\non-error:\n  - report: { x: 1 }\n'),
      ['/w/x.yaml:4:15 on-error.0.report.x: step "report" has no option "x" (it takes no options)']);
    assert.deepEqual(problems('flux: sig\nsteps:\n  - { report: {}, archive: {} }\n'),
      ['/w/x.yaml:3:5 steps.0: a step is a name ("- report") or a map from one step name to its options ("- forward: { url: … }"); this map has 2 keys ("report", "archive")']);
    assert.match(problems('flux: sig\nsteps:\n  - zip: { level: 9 }\n')[0], /^\/w\/x\.yaml:3:5 steps\.0\.zip: "zip" is not a known step; the steps are receipt, /);
  });

  test('a workflow must name a handler the server has loaded, for its profile (checked against the registry)', () => {
    const handlers = new HandlerRegistry(pluginContainer({ config: configSchema.parse({}), logger: silentLogger() }));
    for (const cls of BUILTIN_HANDLERS) handlers.register(cls);
    const check = (text: string) => parseWorkflow(text, '/w/x.yaml', BUILTIN_STEPS, handlers);
    const missing = check('flux: sir\nhandler: nosuchplugin\nsteps: [receipt, handler]\n');
    assert.ok(!missing.ok);
    assert.equal(formatProblem(missing.problems[0]), '/w/x.yaml:2:10 handler: no handler "nosuchplugin" is loaded: the loaded handlers are '
      + 'dis, dropbox, echo, sal, sir, usr; a plugin\'s module must be listed under plugins: in the configuration');
    const byFlux = check('flux: dse\nsteps: [receipt, handler]\n');
    assert.ok(!byFlux.ok && /^\/w\/x\.yaml:1:7 flux: no handler "dse" is loaded \(the handler defaults to the flux/.test(formatProblem(byFlux.problems[0])));
    const profile = check('flux: sal2\nhandler: sal\nmatch: { profile: dropbox }\nsteps: [handler]\n');
    assert.ok(!profile.ok && /handler: handler "sal" serves exchange accounts only, not dropbox/.test(formatProblem(profile.problems[0])));
    // No handler step: the handler is not looked for (forwarded fluxes).
    assert.ok(check('flux: sig\nsteps: [receipt, forward, report]\n').ok);
    assert.ok(check('flux: sir\nsteps: [receipt, handler]\n').ok);
    // The shipped workflows all pass.
    assert.deepEqual(loadWorkflowDir(join(REPO_ROOT, 'workflows'), BUILTIN_STEPS, handlers).problems.map(formatProblem), []);
  });

  test('two workflows taking the same files: the later file is refused, naming both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-wfclash-'));
    try {
      cpSync(join(REPO_ROOT, 'workflows', 'sal.yaml'), join(dir, 'sal.yaml'));
      writeFileSync(join(dir, 'sir.yaml'), 'flux: sir\nmatch:\n  directory: in/sal\nsteps: [receipt]\n');
      // Another pattern in the same directory is allowed; the same pattern twice is not.
      writeFileSync(join(dir, 'x1.yaml'), "flux: x1\nmatch:\n  directory: in/sal\n  pattern: '\\.zip$'\nsteps: [receipt]\n");
      writeFileSync(join(dir, 'x2.yaml'), "flux: x2\nmatch:\n  directory: in/sal\n  pattern: '\\.zip$'\nsteps: [receipt]\n");
      // Different patterns may still both match a name (x.zip): said, not refused.
      writeFileSync(join(dir, 'x3.yaml'), "flux: x3\nmatch:\n  directory: in/sal\n  pattern: '^x'\nsteps: [receipt]\n");
      // The same flux twice (another directory) as before.
      writeFileSync(join(dir, 'z.yaml'), 'flux: sal\nmatch:\n  directory: in/zz\nsteps: [receipt]\n');
      const load = loadWorkflowDir(dir, BUILTIN_STEPS);
      assert.deepEqual(load.workflows.map((w) => w.flux), ['sal', 'x1', 'x3']);
      assert.deepEqual(load.problems.map(formatProblem), [
        `${join(dir, 'sir.yaml')}:3:14 match.directory: exchange directory "in/sal" is already served by sal.yaml (flux "sal"): `
          + 'two workflows cannot take the same files; give one another match.directory, or each a different match.pattern',
        `${join(dir, 'x2.yaml')}:3:14 match.directory: exchange directory "in/sal" with pattern \\.zip$ is already served by x1.yaml (flux "x1"): `
          + 'two workflows cannot take the same files; give one another match.directory, or each a different match.pattern',
        `${join(dir, 'z.yaml')}:1:7 flux: flux "sal" is already defined by sal.yaml`,
      ]);
      assert.deepEqual(load.warnings.map(formatProblem).filter((w) => w.includes('shared')), [
        `${join(dir, 'x3.yaml')}:4:12 match.pattern: exchange directory "in/sal" is shared with x1.yaml (flux "x1", pattern \\.zip$): `
          + 'make sure no file name matches both patterns; such a file is rejected with FG_WORKFLOW_AMBIGUOUS and kept',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('YAML syntax errors carry a line', () => {
    const r = parse('flux: sal\nsteps: [receipt\n');
    assert.ok(!r.ok && r.problems[0].line !== undefined);
  });

  test('a bad name pattern is a located problem, not a crash', () => {
    const r = parse("flux: sal\nmatch:\n  pattern: '('\nsteps: [receipt]\n");
    assert.ok(!r.ok);
    if (r.ok) return;
    assert.equal(r.problems[0].key, 'match.pattern');
    assert.equal(r.problems[0].line, 3);
  });

  test('the checked-in JSON Schema is the one generated from the zod source', () => {
    const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'workflows', 'workflow.schema.json'), 'utf8')) as unknown;
    assert.deepEqual(committed, JSON.parse(JSON.stringify(workflowJsonSchema(BUILTIN_STEPS))),
      'workflows/workflow.schema.json is stale: run npm run workflows:schema');
  });
});
