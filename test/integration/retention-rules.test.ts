import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JournalRepository } from '../../core/store/ports/journal';
import { DAY, isoAt, JobsFixture, runJob } from './jobs-support';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Retention on a real data dir, through `fluxgate jobs run retention --at`: journal rows made
 * with the engine's journal repository, files on disk, accounts made by the account service.
 */
describe('retention job (CLI, --at)', () => {
  let fx: JobsFixture;
  let journal: JournalRepository;
  const T = Date.now();
  const files: Record<string, string> = {};
  let processedId = '';
  let rejectedId = '';

  before(async () => {
    fx = new JobsFixture();
    journal = (await fx.store()).store.journal;
    await (await fx.accountService()).create({ id: 'acme', now: T });

    // A processed input, archived.
    const archived = fx.write(join(fx.paths.archive('acme', 'sal'), 'ndmat_acme_acme_sal_v6_261120090500.csv'), 'processed-content');
    const p = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/ndmat_acme_acme_sal_v6_261120090500.csv',
      name: 'ndmat_acme_acme_sal_v6_261120090500.csv', size: 17, sha1: 'x', sha256: sha256('processed-content'), location: archived, receivedAt: T }))!;
    await journal.update(p.id, { state: 'processed', processedAt: T });
    processedId = p.id;
    files.archived = archived;

    // A rejected input, quarantined.
    const quarantined = fx.write(join(fx.paths.quarantine('acme', 'sal'), 'wrongname_sal.csv'), 'bad');
    const r = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: null, originalPath: 'in/sal/wrongname_sal.csv',
      name: 'wrongname_sal.csv', size: 3, sha1: 'x', sha256: sha256('bad'), location: quarantined, receivedAt: T }))!;
    await journal.update(r.id, { state: 'rejected' });
    rejectedId = r.id;
    files.quarantined = quarantined;

    // Its report in out/sal and receipt in out/tra, recorded by the engine.
    files.report = fx.inTree('acme', 'out/sal/cdmat_acme_sal_report_261120090500.xml', '<report/>');
    files.reportSig = fx.inTree('acme', 'out/sal/cdmat_acme_sal_report_261120090500.xml.asc', 'sig');
    await journal.recordOutput(p.id, 'acme', 'report', files.report, T);
    files.receipt = fx.inTree('acme', 'out/tra/cdmat_acme_tra_sal_261120090500.xml', '<receipt/>');
    await journal.recordOutput(p.id, 'acme', 'receipt', files.receipt, T);

    // Files the journal does not know: their clock is first sight (ctime), never the mtime.
    files.subscription = fx.inTree('acme', 'out/ins/subscriptions_2026.csv', 'subs');
    files.otherOut = fx.inTree('acme', 'out/bil/invoice.pdf', 'pdf');
    files.unmatched = fx.inTree('acme', 'in/sal/notes.txt', 'no workflow for me');
    files.partial = fx.inTree('acme', 'in/sal/big.csv.filepart', 'half');
    files.tempUpload = fx.inTree('acme', 'in/usr/.fg-upload-abc123-users.csv', 'half');
    files.publicKey = fx.inTree('acme', 'out/sig/fluxgate.asc', '-----BEGIN PGP PUBLIC KEY BLOCK-----');
    // A client backdating a file (SETSTAT) must not make it look old.
    utimesSync(files.otherOut, new Date('2001-01-01'), new Date('2001-01-01'));
    utimesSync(files.unmatched, new Date('2001-01-01'), new Date('2001-01-01'));
  });
  after(async () => { await fx.cleanup(); });

  test('day 6: nothing is old enough, backdated mtimes notwithstanding', async () => {
    const run = await runJob(fx.srv, 'retention', '--at', isoAt(T + 6 * DAY));
    assert.equal(run.outcome, 'ok');
    assert.equal(run.counts.delete ?? 0, 0, JSON.stringify(run.actions));
    for (const f of Object.values(files)) assert.ok(existsSync(f), `${f} kept`);
  });

  test('dry run at day 200 lists every deletion and changes nothing', async () => {
    const before = JSON.stringify([(await fx.tombstones()), await fx.query('SELECT id, state FROM files ORDER BY id'), await fx.query('SELECT * FROM retention_seen ORDER BY path')]);
    const runsBefore = (await fx.query<{ n: number }>('SELECT count(*) AS n FROM cron_runs'))[0].n;
    const run = await runJob(fx.srv, 'retention', '--dry-run', '--at', isoAt(T + 200 * DAY));
    assert.equal(run.dryRun, true);
    assert.equal(run.runId, null);
    const targets = run.actions.map((a) => a.target).sort();
    const expected = Object.entries(files).filter(([k]) => k !== 'publicKey').map(([, f]) => f).sort();
    assert.deepEqual(targets, expected);
    for (const f of Object.values(files)) assert.ok(existsSync(f), `${f} still there after a dry run`);
    const afterState = JSON.stringify([(await fx.tombstones()), await fx.query('SELECT id, state FROM files ORDER BY id'), await fx.query('SELECT * FROM retention_seen ORDER BY path')]);
    assert.equal(afterState, before);
    assert.equal((await fx.query<{ n: number }>('SELECT count(*) AS n FROM cron_runs'))[0].n, runsBefore);
    // The text form says so too.
    const text = await fx.srv.cli('jobs', 'run', 'retention', '--dry-run', '--at', isoAt(T + 200 * DAY));
    assert.match(text.stdout, /dry run: nothing changed/);
    assert.match(text.stdout, /would delete .*wrongname_sal\.csv .*rule quarantine/);
  });

  test('partial uploads: kept at day 6, gone at day 8', async () => {
    const run = await runJob(fx.srv, 'retention', '--at', isoAt(T + 8 * DAY));
    assert.equal(run.outcome, 'ok');
    assert.equal(run.counts['delete:partial-upload'], 2);
    assert.equal(existsSync(files.partial), false);
    assert.equal(existsSync(files.tempUpload), false);
    assert.ok(existsSync(files.subscription));
    const rules = (await fx.tombstones()).map((t) => t.rule);
    assert.deepEqual(rules, ['partial-upload', 'partial-upload']);
  });

  test('subscription reports (out/ins): kept at day 14, gone at day 16', async () => {
    assert.equal((await runJob(fx.srv, 'retention', '--at', isoAt(T + 14 * DAY))).counts.delete ?? 0, 0);
    assert.ok(existsSync(files.subscription));
    const run = await runJob(fx.srv, 'retention', '--at', isoAt(T + 16 * DAY));
    assert.equal(run.counts['delete:subscription-report'], 1);
    assert.equal(existsSync(files.subscription), false);
  });

  test('processed (archived) file: kept at day 44, gone at day 46 with a tombstone and journal state deleted', async () => {
    const at44 = await runJob(fx.srv, 'retention', '--at', isoAt(T + 44 * DAY));
    assert.equal(at44.counts.delete ?? 0, 0);
    assert.ok(existsSync(files.archived));
    assert.equal((await journal.get(processedId))!.state, 'processed');

    const at46 = await runJob(fx.srv, 'retention', '--at', isoAt(T + 46 * DAY));
    assert.equal(at46.outcome, 'ok');
    assert.equal(at46.counts['delete:archive'], 1);
    assert.equal(existsSync(files.archived), false);
    assert.equal((await journal.get(processedId))!.state, 'deleted');
    const t = (await fx.tombstones()).find((x) => x.rule === 'archive')!;
    assert.equal(t.file_id, processedId);
    assert.equal(t.name, 'ndmat_acme_acme_sal_v6_261120090500.csv');
    assert.equal(t.size, 17);
    assert.equal(t.sha256, sha256('processed-content'));
    assert.equal(t.state, 'done');
    assert.ok((await journal.events(processedId)).some((e) => e.type === 'deleted' && e.detail.rule === 'archive'));
    // The report of that file lives on its own clock.
    assert.ok(existsSync(files.report));
  });

  test('quarantined file, reports, other out/ files and unmatched inputs: kept at day 89, gone at day 91', async () => {
    const at89 = await runJob(fx.srv, 'retention', '--at', isoAt(T + 89 * DAY));
    assert.equal(at89.counts.delete ?? 0, 0, JSON.stringify(at89.actions));
    for (const k of ['quarantined', 'report', 'reportSig', 'receipt', 'otherOut', 'unmatched']) assert.ok(existsSync(files[k]), `${k} kept at day 89`);

    const at91 = await runJob(fx.srv, 'retention', '--at', isoAt(T + 91 * DAY));
    assert.equal(at91.outcome, 'ok');
    assert.deepEqual(
      Object.fromEntries(Object.entries(at91.counts).filter(([k]) => k.startsWith('delete:'))),
      { 'delete:quarantine': 1, 'delete:report': 3, 'delete:out-other': 1, 'delete:unmatched': 1 },
    );
    for (const k of ['quarantined', 'report', 'reportSig', 'receipt', 'otherOut', 'unmatched']) assert.equal(existsSync(files[k]), false, `${k} gone at day 91`);
    assert.equal((await journal.get(rejectedId))!.state, 'deleted');
    // The public key clients verify signatures with is never retention's to delete.
    assert.ok(existsSync(files.publicKey));
    assert.equal(readFileSync(files.publicKey, 'utf8').startsWith('-----BEGIN'), true);
    // One tombstone per deletion, all confirmed.
    const tombs = (await fx.tombstones());
    assert.equal(tombs.length, 10);
    assert.ok(tombs.every((t) => t.state === 'done'));
    assert.equal(new Set(tombs.map((t) => t.path)).size, 10);
  });

  test('a rerun deletes nothing twice; jobs list shows the last run and its counts', async () => {
    const again = await runJob(fx.srv, 'retention', '--at', isoAt(T + 400 * DAY));
    assert.equal(again.counts.delete ?? 0, 0);
    assert.equal((await fx.tombstones()).length, 10);
    const list = await fx.srv.cli('jobs', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as Array<{ job: string; schedule: string; timezone: string; lastRun: { id: number; outcome: string; counts: Record<string, number>; asOf: string } | null }>;
    const retention = rows.find((r) => r.job === 'retention')!;
    assert.equal(retention.schedule, '15 2 * * *');
    assert.equal(retention.lastRun!.outcome, 'ok');
    assert.equal(retention.lastRun!.id, again.runId);
    assert.equal(retention.lastRun!.asOf, isoAt(T + 400 * DAY));
    assert.equal(rows.find((r) => r.job === 'key-expiry')!.lastRun, null);
    const tombText = await fx.srv.cli('jobs', 'tombstones', '--account', 'acme', '--name', 'wrongname');
    assert.match(tombText.stdout, /quarantine\s+wrongname_sal\.csv\s+3 bytes\s+sha256:/);
  });
});
