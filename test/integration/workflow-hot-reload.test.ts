import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { startEchoServer, type JournalProbe } from '../e2e/engine-support';

describe('workflows: hot reload and check', () => {
  const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-'));
  const echoYaml = join(workflows, 'echo.yaml');
  let server: TestServer;
  let probe: JournalProbe;
  let paths: DataPaths;

  before(async () => {
    cpSync(join(REPO_ROOT, 'workflows', 'echo.yaml'), echoYaml);
    // An integrator's plugin module, outside the repository, listed in the config file.
    // In a folder of its own: a plugin's sandbox may read its folder, which must not hold the server's data.
    const pluginFile = join(mkdtempSync(join(tmpdir(), 'fg-ext-plugin-')), 'ext.ts');
    writeFileSync(pluginFile, `
import { fluxHandler, type FluxContext, type FluxHandler, type IncomingFile } from ${JSON.stringify(join(REPO_ROOT, 'core', 'plugin-api'))};
@fluxHandler({ apiVersion: 2, flux: 'ext', permissions: { read: ['in/ext'], write: ['out/ext'], network: false } })
export class ExtHandler implements FluxHandler {
  async handle(file: IncomingFile, ctx: FluxContext) {
    await ctx.files.writeFile('out/ext/seen-' + file.id + '.txt', file.sha256);
    ctx.report.count('updated', 'ext-1', 2);
    return { result: 'processed' as const, summary: 'external plugin' };
  }
}
`);
    writeFileSync(join(workflows, 'ext.yaml'), 'flux: ext\nsteps: [receipt, check-name, handler, report, archive]\n');
    ({ server, paths, probe } = await startEchoServer({ workflowsDir: workflows, plugins: [pluginFile], pgp: { signReports: false, keyType: 'curve25519' } }));
  });
  after(async () => {
    await server?.cleanup();
  });

  const drop = async (name: string) => {
    const target = join(paths.accountRoot('acme'), 'in', 'echo', name);
    writeFileSync(`${target}.filepart`, 'x\n');
    renameSync(`${target}.filepart`, target);
    return probe.finished(name);
  };

  /** Writes the file the way editors do (new content, then rename over), so no half file is read. */
  const edit = (text: string) => {
    writeFileSync(`${echoYaml}.tmp`, text);
    renameSync(`${echoYaml}.tmp`, echoYaml);
  };

  test('a broken edit is logged with file, line and key, and the last good definition stays active', async () => {
    const original = readFileSync(echoYaml, 'utf8');
    edit(original.replace('  - handler\n', '  - hander\n'));
    const logged = await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('workflow edit rejected'), 10_000);
    assert.equal(logged.keptPrevious, true);
    assert.match(String(logged.msg), /echo\.yaml:\d+:\d+ steps\.\d: "hander" is not a known step \(did you mean "handler"\?\); the steps are receipt, check-name, /);
    const f = await drop('ndmat_acme_acme_echo_261120120000.csv');
    assert.equal(f.state, 'processed', 'still processed with the last good definition (handler step included)');
    assert.ok(f.reportPath);
  });

  test('a valid edit takes effect without a restart', async () => {
    // The new definition writes no report: visible in the outcome of the next file.
    const original = readFileSync(join(REPO_ROOT, 'workflows', 'echo.yaml'), 'utf8');
    edit(original.replace('  - report\n  - archive\non-error', '  - archive\non-error'));
    await server.waitForLog((l) => l.msg === 'workflow reloaded', 10_000);
    const f = await drop('ndmat_acme_acme_echo_261120120100.csv');
    assert.equal(f.state, 'processed');
    assert.equal(f.reportPath, null);
  });

  test('a plugin module listed in the config is loaded and handles its flux', async () => {
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'ext'));
    const target = join(paths.accountRoot('acme'), 'in', 'ext', 'ndmat_acme_acme_ext_261120120200.csv');
    writeFileSync(`${target}.filepart`, 'x\n');
    renameSync(`${target}.filepart`, target);
    const f = await probe.finished('ndmat_acme_acme_ext_261120120200.csv');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.summary, 'external plugin');
    assert.equal(f.outcome?.counts?.updated, 1);
    assert.equal(readFileSync(join(paths.accountRoot('acme'), 'out', 'ext', `seen-${f.id}.txt`), 'utf8'), f.sha256);
  });

  /** The first log line matching `pred` logged from now on. */
  const nextLog = (pred: (l: Record<string, unknown>) => boolean) => {
    const since = server.logs.length;
    return () => server.waitForLog((l) => server.logs.indexOf(l) >= since && pred(l), 10_000);
  };
  const rejected = (l: Record<string, unknown>) => typeof l.msg === 'string' && l.msg.startsWith('workflow edit rejected');

  test('an edit naming a handler that is not loaded is refused; the last good definition stays active', async () => {
    const wait = nextLog(rejected);
    const current = readFileSync(echoYaml, 'utf8');
    edit(current.replace(/^flux: echo$/m, 'flux: echo\nhandler: nosuchplugin'));
    const logged = await wait();
    assert.equal(logged.keptPrevious, true);
    assert.match(String(logged.msg), /echo\.yaml:\d+:\d+ handler: no handler "nosuchplugin" is loaded: the loaded handlers are dis, dropbox, echo, ext, sal, sir, usr/);
    const f = await drop('ndmat_acme_acme_echo_261120120300.csv');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.outcome?.summary, '1 line(s) echoed');
    edit(current);
  });

  test('a workflow taking the files of another is refused at (re)load, naming both files; the previous definitions stay', async () => {
    // A new file claiming in/echo is not loaded.
    let wait = nextLog(rejected);
    const clash = join(workflows, 'zz-clash.yaml');
    writeFileSync(clash, 'flux: clash\nhandler: echo\nmatch:\n  directory: in/echo\nsteps: [receipt, handler, archive]\n');
    let logged = await wait();
    assert.equal(logged.keptPrevious, false);
    assert.match(String(logged.msg), /zz-clash\.yaml:4:14 match\.directory: exchange directory "in\/echo" is already served by echo\.yaml \(flux "echo"\)/);
    // An edit of ext.yaml moving it onto in/echo is refused; ext keeps serving in/ext.
    wait = nextLog(rejected);
    const extYaml = join(workflows, 'ext.yaml');
    const ext = readFileSync(extYaml, 'utf8');
    writeFileSync(`${extYaml}.tmp`, ext.replace('flux: ext\n', 'flux: ext\nmatch:\n  directory: in/echo\n'));
    renameSync(`${extYaml}.tmp`, extYaml);
    logged = await wait();
    assert.equal(logged.keptPrevious, true);
    assert.match(String(logged.msg), /ext\.yaml:\d+:\d+ match\.directory: .* already served by echo\.yaml/);

    const f = await drop('ndmat_acme_acme_echo_261120120400.csv');
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    assert.equal(f.workflow, 'echo');
    const target = join(paths.accountRoot('acme'), 'in', 'ext', 'ndmat_acme_acme_ext_261120120400.csv');
    writeFileSync(`${target}.filepart`, 'x\n');
    renameSync(`${target}.filepart`, target);
    const e = await probe.finished('ndmat_acme_acme_ext_261120120400.csv');
    assert.equal(e.state, 'processed', JSON.stringify(e.outcome));
    assert.equal(e.workflow, 'ext');
    writeFileSync(extYaml, ext);
    rmSync(clash);
  });

  test('workflows check loads the plugins of the config as the server does, and refuses unknown handlers', async () => {
    const configured = await server.cli('workflows', 'check');
    assert.equal(configured.code, 0, configured.stdout);
    assert.match(configured.stdout, /^ok\s+ext\s+exchange/m);
    const dir = mkdtempSync(join(tmpdir(), 'fg-wfh-'));
    cpSync(join(REPO_ROOT, 'workflows', 'sir.yaml'), join(dir, 'sir.yaml'));
    writeFileSync(join(dir, 'sir.yaml'), readFileSync(join(dir, 'sir.yaml'), 'utf8').replace(/^flux: sir$/m, 'flux: sir\nhandler: nosuchplugin'));
    const r = await server.cli('workflows', 'check', dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^error {2}.*sir\.yaml:\d+:\d+ handler: no handler "nosuchplugin" is loaded: the loaded handlers are dis, dropbox, echo, ext, sal, sir, usr/m);
  });

  test('workflows check DIR validates without starting anything and names file, line and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-wfc-'));
    cpSync(join(REPO_ROOT, 'workflows', 'sal.yaml'), join(dir, 'sal.yaml'));
    writeFileSync(join(dir, 'bad.yaml'), 'flux: bad\nsteps:\n  - receipt\nretry:\n  attempts: 0\n  bogus: 1\n');
    const r = await server.cli('workflows', 'check', dir);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^ok\s+sal\s+exchange/m);
    assert.match(r.stdout, /bad\.yaml:5:13 retry\.attempts: /);
    assert.match(r.stdout, /bad\.yaml:6:3 retry\.bogus: unknown key "bogus"/);
    const good = await server.cli('workflows', 'check', join(REPO_ROOT, 'workflows'));
    assert.equal(good.code, 0, good.stdout);
  });
});
