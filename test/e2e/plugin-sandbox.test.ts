import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataPaths } from '../../core/config/paths';
import { PRIVATE_KEY_FILE } from '../../core/pgp/server-key';
import type { JournalFile } from '../../core/store/journal-repository';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

// Issue #23's probes, tried by a plugin (test/fixtures/plugins/hostile.ts) processing files of
// acme uploaded over SFTP: each is refused by the sandbox with the code of the grant it lacks,
// or stopped by its limits, and the server keeps serving the files that follow.
const PLUGIN = join(__dirname, '..', 'fixtures', 'plugins', 'hostile.ts');
const SECRET = 'Globex-Secret-Row';

function probeWorkflows(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-wf-probe-'));
  writeFileSync(join(dir, 'probe.yaml'), [
    'flux: probe', 'match: {profile: exchange, directory: in/probe}', 'naming: {extensions: [csv]}',
    'steps: [handler, report, archive]', 'on-error: [report, quarantine]', 'limits: {secondsPerFile: 3, memoryMb: 64}', '',
  ].join('\n'));
  return dir;
}

describe('a sandboxed plugin gets exactly its manifest\'s grants', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const server = new TestServer({ config: { plugins: [PLUGIN], workflowsDir: probeWorkflows(), pgp: { signReports: true } } });
  const paths = new DataPaths(server.dataDir);
  let key: TestKey;
  let probe: JournalProbe;
  let listener: Server;
  let requests = 0;
  let stamp = 261121100000;
  const files = new Map<string, JournalFile>();

  /** Uploads one probe file per entry (one SFTP session), waits for all; keyed by probe label. */
  async function upload(probes: Array<[label: string, content: string]>): Promise<void> {
    const local = mkdtempSync(join(tmpdir(), 'fg-probe-'));
    const names = probes.map(([label, content]) => {
      const name = `ndmat_acme_acme_probe_${++stamp}.csv`;
      writeFileSync(join(local, name), content);
      return [label, name] as const;
    });
    const put = await sftpBatch(server.port, 'acme', key.privatePath, names.map(([, name]) => `put ${join(local, name)} in/probe/`));
    assert.equal(put.code, 0, put.stderr);
    for (const [label, name] of names) files.set(label, await probe.finished(name, 60_000));
  }

  function refused(label: string, code: string, summary: RegExp): string {
    const file = files.get(label)!;
    assert.equal(file.state, 'dead', `${label}: ${JSON.stringify(file.outcome)}`);
    assert.equal(file.outcome?.code, code, `${label}: ${JSON.stringify(file.outcome)}`);
    assert.equal(file.attempts, 1, `${label}: the plugin's fault, not retried`);
    assert.match(file.outcome?.summary ?? '', summary, label);
    const report = readFileSync(file.reportPath!, 'utf8');
    assert.ok(!report.includes('leaked:'), `${label}: nothing leaked into the report`);
    assert.ok(!/\n\s+at /.test(report), `${label}: no stack trace in the client's report`);
    return report;
  }

  before(async () => {
    listener = createServer((_req, res) => { requests++; res.end('reached'); });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    key = await createAccount(server, 'acme');
    await createAccount(server, 'globex');
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'probe'));
    mkdirSync(paths.archive('globex', 'sal'), { recursive: true });
    writeFileSync(join(paths.archive('globex', 'sal'), 'ndmat_globex_globex_sal_261120090000.csv'), `${SECRET}\n`);
    await server.start();
    // Through the server's store, whichever engine the run tests (this suite is not in test/postgres-suites.mjs:
    // a sandbox writing to PostgreSQL is test/e2e/serve-postgres.test.ts's).
    await (await server.store()).directory().upsertEmployee('globex', {
      organizationCode: 'GLOBEX', registrationReference: '0001', technicalId: null, email: null,
      lastname: SECRET, firstname: 'Hank', active: true, departureDate: null, attributes: {},
    });
    probe = new JournalProbe(server);
    const port = (listener.address() as AddressInfo).port;
    const hostKey = join(tmpdir(), 'fluxgate-test-hostkeys-shared', 'ssh_host_ed25519_key');
    await upload([
      ['etc', 'read\n/etc/hostname\n'],
      ['archive', `read\n${join(paths.archive('globex', 'sal'), 'ndmat_globex_globex_sal_261120090000.csv')}\n`],
      ['pgp', `read\n${join(paths.pgpDir, PRIVATE_KEY_FILE)}\n`],
      ['hostkey', `read\n${hostKey}\n`],
      ['write', `write\n${join(paths.accountRoot('globex'), 'out', 'sal', 'planted.csv')}\n`],
      ['exec', 'exec\n'],
      ['worker', 'worker\n'],
      ['fetch', `fetch\nhttp://127.0.0.1:${port}/\n`],
      ['directory', 'directory\nglobex\n'],
      ['batch', 'batch\n'],
      ['batch-other', 'batch-other\nglobex\n'],
      ['pipeline', 'pipeline\n'],
      ['env', 'env\n'],
      ['own-out', 'own-out\n'],
    ]);
    await upload([['hang', 'hang\n'], ['oom', 'oom\n'], ['crash', 'crash\n']]);
    await upload([['ok', 'ok\n']]);
  });
  after(async () => {
    listener?.close();
    await server.cleanup();
  });

  test('reading outside the grants (/etc, another account\'s archive, the PGP and SSH host private keys): FG_PLUGIN_PERMISSION naming permissions.read', () => {
    refused('etc', 'FG_PLUGIN_PERMISSION', /may not read "\/etc\/hostname" \(outside account acme.*missing grant: permissions\.read/);
    const archive = refused('archive', 'FG_PLUGIN_PERMISSION', /may not read ".*archive\/globex\/sal\/.*missing grant: permissions\.read/);
    assert.ok(!archive.includes(SECRET));
    refused('pgp', 'FG_PLUGIN_PERMISSION', new RegExp(`may not read ".*${PRIVATE_KEY_FILE}".*missing grant: permissions\\.read`));
    refused('hostkey', 'FG_PLUGIN_PERMISSION', /may not read ".*ssh_host_ed25519_key".*missing grant: permissions\.read/);
  });

  test('writing into another account\'s out/: refused, naming permissions.write; nothing planted', () => {
    refused('write', 'FG_PLUGIN_PERMISSION', /may not write ".*sftp\/globex\/out\/sal\/planted\.csv".*grants write on "out\/probe".*missing grant: permissions\.write/);
    assert.ok(!existsSync(join(paths.accountRoot('globex'), 'out', 'sal', 'planted.csv')));
  });

  test('a child process, a worker thread: refused, naming the capability', () => {
    refused('exec', 'FG_PLUGIN_PERMISSION', /may not start a program .*missing grant: child processes/);
    refused('worker', 'FG_PLUGIN_PERMISSION', /may not start a worker thread.*missing grant: worker threads/);
  });

  test('fetch to a listener on 127.0.0.1 with network: false: refused, naming permissions.network; the listener saw nothing', () => {
    refused('fetch', 'FG_PLUGIN_PERMISSION', /may not connect to 127\.0\.0\.1:\d+.*missing grant: permissions\.network/);
    assert.equal(requests, 0);
  });

  test('ctx.directory for another account, over the sandbox\'s IPC: refused', () => {
    const report = refused('directory', 'FG_PLUGIN_PERMISSION', /ctx\.directory\.listEmployees .*"globex".*bound to account "acme"/);
    assert.ok(!report.includes(SECRET));
  });

  test('ctx.directory.batch over the sandbox\'s IPC: results (undefined kept, as by a single call), a rollback; another account named in an operation: refused, nothing applied', async () => {
    const file = files.get('batch')!;
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
    const report = readFileSync(file.reportPath!, 'utf8');
    assert.match(report, /batch: created true, stored Batch-B1, absent undefined/);
    // undefined (not null) from a single call too: B2 was rolled back, and an absent key is undefined as in the engine.
    assert.match(report, /batch rolled back: FG_PLUGIN_INVALID at operation 1, getEmployee B2: undefined/);
    const other = refused('batch-other', 'FG_PLUGIN_PERMISSION', /ctx\.directory\.batch operation 1 \(listEmployees\) with "globex" first: ctx\.directory is bound to account "acme"/);
    assert.ok(!other.includes(SECRET));
    const refs = (await (await server.store()).directory().listEmployees('acme')).map((e) => e.registrationReference).filter((ref) => ref.startsWith('B'));
    assert.deepEqual(refs, ['B1'], 'B2 rolled back, B3 never ran');
  });

  test('batches in flight at once, an answer and a request bigger than the pipes: all applied in order, no deadlock; counts past the listed messages tallied', () => {
    const file = files.get('pipeline')!;
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
    const report = readFileSync(file.reportPath!, 'utf8');
    const head = report.slice(0, report.indexOf('line;column'));
    assert.match(report, /pipeline: created 3000, read 3000, updated 3000/, head);
    assert.match(head, /\r\ncreated;6000\r\n/, 'every count, listed or not');
    // 5,000 info lines listed (the pipeline line and 4,999 rows), the 1,001 others said.
    assert.match(head, /\r\nmessages_not_listed;1001\r\n/);
    assert.equal(report.match(/;info;;row-\d+;created/g)?.length, 4999);
  });

  test('no environment: the plugin sees no variable of the server\'s', () => {
    const file = files.get('env')!;
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
    assert.match(readFileSync(file.reportPath!, 'utf8'), /environment variables: 0/);
  });

  test('what is granted works: ctx.files and plain fs inside out/probe', () => {
    const file = files.get('own-out')!;
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
    const out = join(paths.accountRoot('acme'), 'out', 'probe');
    assert.equal(readFileSync(join(out, `seen-${file.id}.txt`), 'utf8'), 'seen');
    assert.equal(readFileSync(join(out, `direct-${file.id}.txt`), 'utf8'), 'direct');
  });

  test('a hang, an exhausted heap, an exit: dead with their codes (the workflow\'s limits), stacks in the operator log only', () => {
    refused('hang', 'FG_PLUGIN_TIMEOUT', /took more than 3 s \(limits\.secondsPerFile\)/);
    refused('oom', 'FG_PLUGIN_MEMORY', /went over 64 MiB of heap \(limits\.memoryMb\)/);
    refused('crash', 'FG_PLUGIN_CRASHED', /ended its process \(exit code 3\)/);
    const stopped = server.logs.filter((l) => l.msg === 'sandboxed plugin stopped').map((l) => l.code);
    assert.deepEqual(stopped.sort(), ['FG_PLUGIN_CRASHED', 'FG_PLUGIN_MEMORY', 'FG_PLUGIN_TIMEOUT']);
    const failed = server.logs.find((l) => l.msg === 'sandboxed plugin failed' && l.code === 'FG_PLUGIN_PERMISSION');
    assert.match(JSON.stringify(failed?.err), /hostile\.ts/, 'the plugin\'s stack is in the operator log');
  });

  test('the server keeps serving: a file after all of them is processed', () => {
    const file = files.get('ok')!;
    assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
    assert.match(readFileSync(file.reportPath!, 'utf8'), /row-1/);
  });

  test('the log names the plugin module loaded with its manifest', () => {
    const loaded = server.logs.find((l) => String(l.msg).startsWith('plugin module loaded (sandboxed)'));
    assert.equal(loaded?.module, PLUGIN);
    assert.deepEqual((loaded?.handlers as Array<{ manifest: { permissions: unknown } }>)[0].manifest.permissions,
      { read: ['in/probe'], write: ['out/probe'], network: false });
  });
});

describe('manifests granting what no plugin may have are refused at load', () => {
  for (const [grant, why] of [['', /is empty/], ['/etc', /is absolute/], ['../globex/out/sal', /contains "\.\."/]] as const) {
    test(`write: [${JSON.stringify(grant)}]: workflows check and serve refuse it with FG_PLUGIN_INVALID`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fg-bad-grant-'));
      const plugin = join(dir, 'bad.ts');
      writeFileSync(plugin, [
        "import { fluxHandler } from 'fluxgate/plugin-api';",
        `@fluxHandler({ apiVersion: 2, flux: 'bad', permissions: { read: [], write: [${JSON.stringify(grant)}], network: false } })`,
        "export class BadHandler { async handle() { return { result: 'processed' as const }; } }", '',
      ].join('\n'));
      const server = new TestServer({ config: { plugins: [plugin], workflowsDir: dir } });
      try {
        const check = await server.cli('workflows', 'check');
        assert.equal(check.code, 1);
        assert.match(check.stdout, /FG_PLUGIN_INVALID: handler BadHandler /);
        assert.ok(check.stdout.includes(`permissions.write grant ${JSON.stringify(grant)} `), check.stdout);
        assert.match(check.stdout, why);
        await assert.rejects(server.start(), /FG_PLUGIN_INVALID/);
      } finally {
        await server.cleanup();
      }
    });
  }
});

test('a plugin whose folder holds the configuration or the data directory is refused at load (its sandbox would read them)', async () => {
  const server = new TestServer({ config: { workflowsDir: probeWorkflows() } });
  const beside = join(server.dir, 'beside.ts');
  writeFileSync(beside, readFileSync(PLUGIN, 'utf8').replace("'../../../core/plugin-api'", "'fluxgate/plugin-api'"));
  writeFileSync(server.configFile, readFileSync(server.configFile, 'utf8').replace(/^plugins:.*$/m, '') + `plugins: [${JSON.stringify(beside)}]\n`);
  try {
    const check = await server.cli('workflows', 'check');
    assert.equal(check.code, 1);
    assert.match(check.stdout, /FG_PLUGIN_INVALID: plugin module .*beside\.ts: its folder .* holds the (configuration file|data directory)/);
    await assert.rejects(server.start(), /holds the (configuration file|data directory)/);
  } finally {
    await server.cleanup();
  }
});

describe('permissions.network: a list of host:port reaches those, and only those', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  let granted: Server;
  let other: Server;
  const hits = { granted: 0, other: 0 };
  let server: TestServer;
  let probe: JournalProbe;
  let key: TestKey;

  before(async () => {
    granted = createServer((_q, r) => { hits.granted++; r.end('granted-body'); });
    other = createServer((_q, r) => { hits.other++; r.end('other-body'); });
    await Promise.all([granted, other].map((l) => new Promise<void>((r) => l.listen(0, '127.0.0.1', r))));
    const port = (l: Server) => (l.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'fg-net-plugin-'));
    const plugin = join(dir, 'net.ts');
    writeFileSync(plugin, [
      "import { fluxHandler, type FluxContext, type IncomingFile } from 'fluxgate/plugin-api';",
      `@fluxHandler({ apiVersion: 2, flux: 'net', permissions: { read: [], write: [], network: ['127.0.0.1:${port(granted)}'] } })`,
      'export class NetHandler {',
      '  async handle(_f: IncomingFile, ctx: FluxContext) {',
      "    const url = require('node:fs').readFileSync(ctx.inputPath, 'utf8').trim();",
      "    ctx.report.add({ severity: 'info', message: 'got ' + await (await fetch(url)).text() });",
      "    return { result: 'processed' as const };",
      '  }',
      '}', '',
    ].join('\n'));
    const workflows = mkdtempSync(join(tmpdir(), 'fg-wf-net-'));
    writeFileSync(join(workflows, 'net.yaml'), 'flux: net\nnaming: {extensions: [txt]}\ncreateFolders: true\nsteps: [handler, report, archive]\n');
    server = new TestServer({ config: { plugins: [plugin], workflowsDir: workflows, pgp: { signReports: false } } });
    key = await createAccount(server, 'acme');
    await server.start();
    probe = new JournalProbe(server);
    const local = mkdtempSync(join(tmpdir(), 'fg-net-up-'));
    writeFileSync(join(local, 'ndmat_acme_acme_net_261121100001.txt'), `http://127.0.0.1:${port(granted)}/\n`);
    writeFileSync(join(local, 'ndmat_acme_acme_net_261121100002.txt'), `http://127.0.0.1:${port(other)}/\n`);
    const put = await sftpBatch(server.port, 'acme', key.privatePath, ['ndmat_acme_acme_net_261121100001.txt', 'ndmat_acme_acme_net_261121100002.txt']
      .map((n) => `put ${join(local, n)} in/net/`));
    assert.equal(put.code, 0, put.stderr);
  });
  after(async () => {
    granted?.close();
    other?.close();
    await server?.cleanup();
  });

  test('the granted host:port answers; another port of the same host is refused, naming the grant', async () => {
    const ok = await probe.finished('ndmat_acme_acme_net_261121100001.txt');
    assert.equal(ok.state, 'processed', JSON.stringify(ok.outcome));
    assert.match(readFileSync(ok.reportPath!, 'utf8'), /got granted-body/);
    const refusedFile = await probe.finished('ndmat_acme_acme_net_261121100002.txt');
    assert.equal(refusedFile.outcome?.code, 'FG_PLUGIN_PERMISSION', JSON.stringify(refusedFile.outcome));
    assert.match(refusedFile.outcome?.summary ?? '', /may not connect to 127\.0\.0\.1:\d+: its manifest's permissions\.network grants "127\.0\.0\.1:\d+" \(missing grant: permissions\.network\)/);
    assert.deepEqual(hits, { granted: 1, other: 0 });
  });
});
