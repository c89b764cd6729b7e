import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { reportLines, type FileView } from './fixtures-support';
import { createAccount, JournalProbe } from './engine-support';

interface Shown { id: string; name: string; state: string; location: string; report: string | null; attempts: number; receipt: string | null; sha1: string; outcome: FileView['outcome']; events: Array<{ type: string; [k: string]: unknown }> }

/**
 * The engine end to end: real server, OpenSSH sftp uploads into in/echo (the echo handler
 * follows #instructions in the file), receipts, reports, journal, archive and quarantine.
 */
describe('engine end to end over SFTP', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const server = new TestServer({ config: { pgp: { signReports: false, keyType: 'curve25519' } } });
  const local = join(server.dir, 'client');
  let key: TestKey;
  let probe: JournalProbe;
  const acmeRoot = () => join(server.dataDir, 'sftp', 'acme');

  before(async () => {
    mkdirSync(local);
    await server.start();
    key = await createAccount(server, 'acme');
    mkdirSync(join(acmeRoot(), 'in', 'echo'));
    probe = new JournalProbe(server);
  });
  after(async () => {
    await server.stop();
    await server.cleanup();
  });

  async function upload(name: string, content: string): Promise<{ file: FileView; bytes: Buffer }> {
    const path = join(local, name);
    writeFileSync(path, content);
    const r = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${path} in/echo/`]);
    assert.equal(r.code, 0, r.stderr);
    const done = await probe.finished(name);
    return { file: { ...done, report: done.reportPath } as unknown as FileView, bytes: readFileSync(path) };
  }

  /** The journal entry and its timeline, as `files show --json` prints them (read from the database). */
  async function show(id: string): Promise<Shown> {
    const f = (await probe.get(id))!;
    return {
      id: f.id, name: f.name, state: f.state, location: f.location, report: f.reportPath, attempts: f.attempts,
      receipt: f.receiptWrittenAt ? f.receiptPath : null, sha1: f.sha1, outcome: f.outcome,
      events: (await probe.events(id)).map((e) => ({ ...e.detail, type: e.type })),
    };
  }

  test('a good file: receipt with matching SHA-1 and size, report, input archived, journal processed', async () => {
    const name = 'ndmat_acme_acme_echo_app_v1_261120093000.csv';
    const { file, bytes } = await upload(name, 'alpha\r\nbeta\r\ngamma\r\n');
    assert.equal(file.state, 'processed');
    const shown = (await show(file.id));

    // proof of receipt
    assert.ok(shown.receipt, 'receipt recorded');
    assert.match(shown.receipt, /\/out\/tra\/cdmat_acme_tra_echo_\d{14}\.xml$/);
    const xml = readFileSync(shown.receipt, 'utf8');
    assert.ok(xml.startsWith("<?xml version='1.0' encoding='utf-8'?>\n<transfert_report version=\"1\">\n<file>\n"));
    assert.match(xml, new RegExp(`<file_name>${name}</file_name>`));
    assert.match(xml, new RegExp(`<file_fingerprint algorithm="SHA1">${createHash('sha1').update(bytes).digest('hex')}</file_fingerprint>\n<file_fingerprint algorithm="SHA256">${createHash('sha256').update(bytes).digest('hex')}</file_fingerprint>`));
    assert.match(xml, new RegExp(`<file_size>${bytes.length}</file_size>`));
    assert.match(xml, /<file_timestamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d<\/file_timestamp>/);

    // report, downloadable by the client
    assert.equal(file.report, join(acmeRoot(), 'out', 'echo', 'cdmat_acme_acme_echo_app_v1_261120093000.csv'));
    const got = join(local, 'report.csv');
    const r = await sftpBatch(server.port, 'acme', key.privatePath, [`get out/echo/cdmat_acme_acme_echo_app_v1_261120093000.csv ${got}`]);
    assert.equal(r.code, 0, r.stderr);
    const report = readFileSync(got, 'utf8');
    assert.ok(report.startsWith('\uFEFFfile;ndmat_acme_acme_echo_app_v1_261120093000.csv\r\n'));
    assert.match(report, /\r\ncreated;3\r\n/);
    assert.match(report, /\r\nresult;processed\r\n/);
    assert.deepEqual(reportLines(server, 'acme', file).map((l) => l.entity_id), ['alpha', 'beta', 'gamma']);

    // input left in/ for the archive, journal consistent
    assert.deepEqual(readdirSync(join(acmeRoot(), 'in', 'echo')), []);
    assert.equal(file.location, join(server.dataDir, 'archive', 'acme', 'echo', `${file.id}_${name}`));
    assert.deepEqual(readFileSync(file.location), bytes);
    assert.equal(shown.sha1, createHash('sha1').update(bytes).digest('hex'));
    const types = shown.events.map((e) => e.type);
    for (const t of ['received', 'attempt', 'receipt', 'handled', 'report', 'archived', 'processed']) assert.ok(types.includes(t), `${t} in ${types.join(',')}`);
    assert.equal(types.filter((t) => t === 'received').length, 1, 'one journal entry per upload (event + watcher)');
    assert.equal((await probe.byName(name)).length, 1);
    // the handler applied it (echo records each file in the account's vault)
    assert.ok(existsSync(join(server.dataDir, 'vault', 'acme', 'echo', `${file.id}.json`)));
  });

  test('a badly named file is rejected with FG_NAME_CONVENTION, kept in quarantine and reported', async () => {
    const { file, bytes } = await upload('wrongname_echo.csv', 'x\n');
    assert.equal(file.state, 'rejected');
    assert.equal(file.outcome?.code, 'FG_NAME_CONVENTION');
    assert.match(file.outcome.summary!, /destination part is "wrongname", expected "ndmat"/);
    assert.ok(file.location.startsWith(join(server.dataDir, 'quarantine', 'acme', 'echo')));
    assert.deepEqual(readFileSync(file.location), bytes);
    assert.equal(file.report, join(acmeRoot(), 'out', 'echo', 'wrongname_echo.csv'));
    const lines = reportLines(server, 'acme', file);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].code, 'FG_NAME_CONVENTION');
    assert.equal(lines[0].field, 'name.dest');
    assert.match(readFileSync(file.report, 'utf8'), /\r\nresult;rejected\r\n/);
  });

  test('a wrong part in the middle of the name is named in the report', async () => {
    const { file } = await upload('ndmat_acme_other_echo_261120093000.csv', 'x\n');
    assert.equal(file.state, 'rejected');
    assert.equal(reportLines(server, 'acme', file)[0].field, 'name.client');
  });

  test('a handler that throws is retried, then dead, reported and quarantined', async () => {
    const { file } = await upload('ndmat_acme_acme_echo_261120093100.csv', 'one\n#fail\n');
    assert.equal(file.state, 'dead');
    assert.equal(file.outcome?.code, 'FG_HANDLER_FAILED');
    const shown = (await show(file.id));
    assert.equal(shown.attempts, 3, 'workflows/echo.yaml allows 3 attempts');
    assert.equal(shown.events.filter((e) => e.type === 'attempt-failed').length, 2);
    assert.ok(file.location.includes('/quarantine/acme/echo/'));
    const report = readFileSync(file.report!, 'utf8');
    assert.match(report, /\r\nresult;failed\r\n/);
    assert.match(report, /FG_HANDLER_FAILED;;echo: failing as instructed/);
  });

  test('a transient failure is retried and the file then processed', async () => {
    const { file } = await upload('ndmat_acme_acme_echo_261120093200.csv', '#fail-once\nx\n');
    assert.equal(file.state, 'processed');
    const shown = (await show(file.id));
    assert.equal(shown.attempts, 2);
    assert.equal(shown.events.filter((e) => e.type === 'attempt-failed').length, 1);
  });

  test('a plugin writing outside its permissions is refused, the file is dead at once and reported', async () => {
    const { file } = await upload('ndmat_acme_acme_echo_261120093300.csv', '#write out/sal/evil.csv\n');
    assert.equal(file.state, 'dead');
    assert.equal(file.outcome?.code, 'FG_PLUGIN_PERMISSION');
    assert.match(file.outcome.summary!, /may not write "out\/sal\/evil.csv": its manifest grants write on "out\/echo", "vault\/echo"/);
    assert.equal((await show(file.id)).attempts, 1, 'a permission refusal is not retried');
    assert.ok(!existsSync(join(acmeRoot(), 'out', 'sal', 'evil.csv')));
    assert.ok(!existsSync(join(acmeRoot(), 'out', 'sal')) || !readdirSync(join(acmeRoot(), 'out', 'sal')).some((n) => n.includes('evil')));
    assert.equal(reportLines(server, 'acme', file)[0].code, 'FG_PLUGIN_PERMISSION');
    // and escaping the account tree is refused too
    const { file: escape } = await upload('ndmat_acme_acme_echo_261120093301.csv', '#read ../other/in/x\n');
    assert.equal(escape.outcome?.code, 'FG_PLUGIN_PERMISSION');
  });

  test('a file rejected by the handler is rejected without retry', async () => {
    const { file } = await upload('ndmat_acme_acme_echo_261120093400.csv', '#reject FG_MISSING_COLUMN\n');
    assert.equal(file.state, 'rejected');
    assert.equal(file.outcome?.code, 'FG_MISSING_COLUMN');
    assert.equal((await show(file.id)).attempts, 1);
  });

  test('replay processes an archived file again: same journal entry, no second receipt, new report', async () => {
    const name = 'ndmat_acme_acme_echo_261120093500.csv';
    const { file } = await upload(name, 'r1\n');
    const before = (await show(file.id));
    const receipts = readdirSync(join(acmeRoot(), 'out', 'tra')).length;
    const r = await server.cli('replay', file.id);
    assert.equal(r.code, 0, r.stderr);
    const deadline = Date.now() + 15_000;
    let again = (await show(file.id));
    while (!(again.state === 'processed' && again.events.some((e) => e.type === 'replay') && again.events.filter((e) => e.type === 'processed').length === 2)) {
      assert.ok(Date.now() < deadline, `replay not processed: ${again.state}`);
      await new Promise((res) => setTimeout(res, 100));
      again = (await show(file.id));
    }
    assert.equal(again.receipt, before.receipt);
    assert.equal(readdirSync(join(acmeRoot(), 'out', 'tra')).length, receipts);
    assert.equal(again.location, before.location);
    assert.equal((await probe.byName(name)).length, 1);
    // a live or unknown file cannot be replayed
    const unknown = await server.cli('replay', 'f_nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /FG_FILE_NOT_FOUND/);
  });

  test('the files CLI: table filtered by state, show with timeline, --json', async () => {
    const r = await server.cli('files', '--account', 'acme', '--state', 'rejected');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ID\s+ACCOUNT\s+FLUX\s+STATE/);
    assert.match(r.stdout, /wrongname_echo\.csv/);
    assert.doesNotMatch(r.stdout, /ndmat_acme_acme_echo_app_v1_261120093000\.csv/);
    const rejected = (await probe.list({ state: 'rejected' })).files[0];
    const shown = await server.cli('files', 'show', rejected.id);
    assert.match(shown.stdout, /timeline:/);
    assert.match(shown.stdout, /quarantined/);
    const json = await server.cli('files', 'show', rejected.id, '--json');
    const parsed = JSON.parse(json.stdout) as Shown;
    assert.equal(parsed.id, rejected.id);
    assert.ok(parsed.events.some((e) => e.type === 'received'));
  });

  test('the journal keeps a report\'s problems before its info lines, in line order', async () => {
    // 300 created rows (info lines) before a warning: the journal keeps 200 messages.
    const rows = Array.from({ length: 300 }, (_, i) => `row-${i + 1}`);
    const { file } = await upload('ndmat_acme_acme_echo_app_v1_261120094500.csv', [...rows, '#warn late in the file', 'last'].join('\r\n') + '\r\n');
    assert.equal(file.state, 'processed');
    const shown = JSON.parse((await server.cli('files', 'show', file.id, '--json')).stdout) as { events: Array<{ type: string; messages?: Array<{ line?: number; severity: string; message: string }>; messageCount?: number }> };
    const report = shown.events.find((e) => e.type === 'report')!;
    assert.equal(report.messageCount, 302);
    assert.equal(report.messages!.length, 200);
    assert.deepEqual(report.messages![0], { severity: 'warning', code: 'FG_INVALID_VALUE', message: 'late in the file' }, 'the warning is kept, first (it has no line)');
    const lines = report.messages!.slice(1).map((m) => m.line!);
    assert.deepEqual(lines, Array.from({ length: 199 }, (_, i) => i + 1), 'then the first rows, in line order');
  });
});
