import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

const CONFIG = { pgp: { signReports: false, keyType: 'curve25519' } };
const FIXTURES = join(REPO_ROOT, 'test/fixtures/exchange');
const SIR_NAME = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
/** 60 employees with every column; E, the employee the big file changes twice, is one of them. */
const SAL_NAME = 'ndmat_acme_acme_sal_hrmanager_v6_261120090500.csv';
const BIG_NAME = 'ndmat_acme_acme_sal_hrmanager_v6_261122100000.csv';
const E = { org: 'ACME-DE-BER', ref: '000001' };
/** New employees between E's two rows: the file must still be applying when the server is killed. */
const BULK = 40_000;
const HEADER = 'organization_code;registration_reference;lastname;firstname;professional_email';

/**
 * The same key twice with different data rejects both rows, and the first, applied while the
 * file streamed, is undone at the end. Killed (SIGKILL) after E's first row replaced the stored
 * E and before its second row, the file is retried at the next start: the retry must still
 * undo E to what it was before the file (kept in the database with the update, not in memory or
 * a temporary table), and remove C, a key the killed attempt created.
 */
describe('crash safety: a conflicting key applied before a crash is undone by the retry', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  let first: TestServer | undefined;
  let second: TestServer | undefined;
  after(async () => {
    await second?.cleanup();
    await first?.cleanup();
  });

  test('E updated by its first row, killed before its second: the retry rejects both rows and E is as before the file', async () => {
    first = new TestServer({ config: CONFIG });
    const key = await createAccount(first, 'acme');
    await first.start();
    const probe = new JournalProbe(first);
    const server = first;
    const store = (await server.store()).directory();
    const emailOf = async (org: string, ref: string) => (await server.query<{ email: string }>(`SELECT email FROM dir_employees WHERE account_id = 'acme' AND organization_code = ? AND registration_reference = ?`, org, ref))[0]?.email;
    const put = async (port: number, local: string, remote: string) => {
      const r = await sftpBatch(port, 'acme', key.privatePath, [`put ${local} ${remote}`]);
      assert.equal(r.code, 0, r.stderr);
    };
    await put(first.port, join(FIXTURES, SIR_NAME), 'in/sir/');
    assert.equal((await probe.finished(SIR_NAME)).state, 'processed');
    await put(first.port, join(FIXTURES, SAL_NAME), 'in/sal/');
    assert.equal((await probe.finished(SAL_NAME)).state, 'processed');
    const before = await store.getEmployee('acme', E.org, E.ref);
    assert.ok(before, 'E is in the directory');
    assert.notEqual(before.attributes.city ?? null, null, 'E has attributes the big file has no column for');

    // E early (an update: the file has fewer columns, the others keep their values), C early
    // (a new key), BULK new employees, E and C again with other data, then Z, the last row.
    const lines = [HEADER,
      `${E.org};${E.ref};Early;Farid;farid.early@acme.example`,
      'ACME-FR;C00001;Conflict;Carla;carla.early@acme.example'];
    for (let i = 1; i <= BULK; i++) lines.push(`ACME-FR;N${String(i).padStart(6, '0')};Nouveau;Noé;n${i}@new.example`);
    lines.push(`${E.org};${E.ref};Late;Farid;farid.late@acme.example`);
    lines.push('ACME-FR;C00001;Conflict;Carla;carla.late@acme.example');
    lines.push('ACME-FR;Z00001;Last;Zoé;zoe@acme.example');
    const eLines = [2, BULK + 4];
    const cLines = [3, BULK + 5];
    writeFileSync(join(first.dir, BIG_NAME), lines.join('\r\n') + '\r\n');
    await put(first.port, join(first.dir, BIG_NAME), 'in/sal/');

    // E's first row is in the first 2,000-row transaction: kill the server once it is committed.
    const deadline = Date.now() + 30_000;
    while (await emailOf(E.org, E.ref) !== 'farid.early@acme.example') {
      assert.ok(Date.now() < deadline, 'the big file never reached its first commit');
      await new Promise((r) => setTimeout(r, 5));
    }
    await first.kill();
    const [cut] = (await probe.byName(BIG_NAME));
    assert.equal(cut?.state, 'processing', 'killed while the file was being applied');
    assert.equal(await emailOf('ACME-FR', 'Z00001'), undefined, 'killed before the last rows');
    assert.equal(await emailOf('ACME-FR', 'C00001'), 'carla.early@acme.example', 'the killed attempt created C');

    second = new TestServer({ dir: first.dir, config: CONFIG });
    await second.start();
    const done = await probe.finished(BIG_NAME, 60_000);
    assert.equal(done.state, 'processed', JSON.stringify(done.outcome));
    assert.equal(done.attempts, 2);
    assert.deepEqual(done.outcome?.counts, { created: BULK + 1, updated: 0, unchanged: 0, rejected: 4 });

    // The report the client fetches: both rows of E and of C rejected, each naming both lines.
    const local = join(second.dir, 'report.csv');
    const get = await sftpBatch(second.port, 'acme', key.privatePath, [`get out/sal/${BIG_NAME.replace('ndmat_', 'cdmat_')} ${local}`]);
    assert.equal(get.code, 0, get.stderr);
    const report = readFileSync(local, 'utf8').split('\r\n').map((l) => l.split(';'));
    const dups = report.filter((r) => r[4] === 'FG_DUP_IN_FILE').map((r) => [Number(r[0]), r[5], r[6]] as const).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(dups.map(([line, entity]) => [line, entity]), [
      [eLines[0], `${E.org}/${E.ref}`], [cLines[0], 'ACME-FR/C00001'], [eLines[1], `${E.org}/${E.ref}`], [cLines[1], 'ACME-FR/C00001'],
    ]);
    for (const [line, entity, message] of dups) {
      const expected = entity === 'ACME-FR/C00001' ? cLines : eLines;
      assert.match(String(message), new RegExp(`lines ${expected.join(', ')} with different data`), `line ${line}`);
    }

    // E exactly as before the file, every field and attribute; C gone; the rest applied.
    assert.deepEqual(await store.getEmployee('acme', E.org, E.ref), before);
    assert.equal(await store.getEmployee('acme', 'ACME-FR', 'C00001'), undefined);
    assert.equal(await emailOf('ACME-FR', 'Z00001'), 'zoe@acme.example');
    assert.equal(await emailOf('ACME-FR', `N${String(BULK).padStart(6, '0')}`), `n${BULK}@new.example`);
    // What the file kept is forgotten once its undo committed.
    assert.equal(await store.previousEmployee('acme', E.org, E.ref, done.id), undefined);
    assert.equal((await server.query<{ n: number }>('SELECT count(*) AS n FROM dir_employee_versions'))[0].n, 0);
  });
});
