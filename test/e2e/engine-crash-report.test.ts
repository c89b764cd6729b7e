import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

const CONFIG = { pgp: { signReports: false, keyType: 'curve25519' } };
const SIR_NAME = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
const HEADER = 'organization_code;registration_reference;lastname;firstname;professional_email';
/** Employees already in the directory; the second file changes every one's e-mail. */
const EMPLOYEES = 40_000;
const ref = (i: number) => String(i).padStart(6, '0');
const row = (i: number, domain: string) => `ACME-FR;${ref(i)};Martin;Anna;e${i}@${domain}`;

/**
 * A sal file killed (SIGKILL) part way: the rows committed before the crash were applied by the
 * interrupted attempt, and the retry finds them already as it would write them. Its report and
 * journal must still say what the FILE changed (created / updated), a row repeated in the file
 * stays unchanged, and the timeline says the first attempt was interrupted.
 */
describe('crash safety: the retry of a file killed part way reports what the file changed', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  let first: TestServer | undefined;
  let second: TestServer | undefined;
  after(async () => {
    await second?.cleanup();
    await first?.cleanup();
  });

  test('40,000 e-mails changed and 2,000 employees added, killed after the first commits: 2,000 created, 40,000 updated, 2 unchanged', async () => {
    first = new TestServer({ config: CONFIG });
    const key = await createAccount(first, 'acme');
    await first.start();
    const probe = new JournalProbe(first);
    const server = first;
    const email = async (i: number) => (await server.query<{ email: string }>(`SELECT email FROM dir_employees WHERE account_id = 'acme' AND organization_code = 'ACME-FR' AND registration_reference = ?`, ref(i)))[0]?.email;
    const put = async (local: string, remote: string) => {
      const r = await sftpBatch(first!.port, 'acme', key.privatePath, [`put ${local} ${remote}`]);
      assert.equal(r.code, 0, r.stderr);
    };
    await put(join(REPO_ROOT, 'test/fixtures/exchange', SIR_NAME), 'in/sir/');
    assert.equal((await probe.finished(SIR_NAME)).state, 'processed');

    const before = 'ndmat_acme_acme_sal_hrmanager_v6_261121100000.csv';
    const lines = [HEADER];
    for (let i = 1; i <= EMPLOYEES; i++) lines.push(row(i, 'old.example'));
    writeFileSync(join(first.dir, before), lines.join('\r\n') + '\r\n');
    await put(join(first.dir, before), 'in/sal/');
    const setup = await probe.finished(before);
    assert.deepEqual(setup.outcome?.counts, { created: EMPLOYEES, updated: 0, unchanged: 0, rejected: 0 });

    // Every e-mail changes; one new employee every 20 rows; employee 1 and the first new one
    // repeated identically right after their row (applied before the crash, like the rows around them).
    const changing = 'ndmat_acme_acme_sal_hrmanager_v6_261121110000.csv';
    const fresh = (n: number) => `ACME-FR;N${ref(n)};Nouveau;Noé;n${n}@new.example`;
    const body = [HEADER];
    let added = 0;
    for (let i = 1; i <= EMPLOYEES; i++) {
      body.push(row(i, 'new.example'));
      if (i === 1) body.push(row(1, 'new.example'));
      if (i % 20 === 0) {
        body.push(fresh(++added));
        if (added === 1) body.push(fresh(1));
      }
    }
    writeFileSync(join(first.dir, changing), body.join('\r\n') + '\r\n');
    await put(join(first.dir, changing), 'in/sal/');
    // The first 2,000-row transaction is committed: kill the server in the middle of the file.
    const deadline = Date.now() + 20_000;
    while (await email(1) !== 'e1@new.example') {
      assert.ok(Date.now() < deadline, 'the file never reached its first commit');
      await new Promise((r) => setTimeout(r, 5));
    }
    await first.kill();
    const [cut] = (await probe.byName(changing));
    assert.equal(cut?.state, 'processing', 'killed while the file was being applied');
    assert.equal(await email(EMPLOYEES), `e${EMPLOYEES}@old.example`, 'killed before the last rows');
    const [{ n: appliedBefore }] = await server.query<{ n: number }>(`SELECT count(*) AS n FROM dir_employees WHERE account_id = 'acme' AND source_file = ?`, cut.id);
    assert.ok(appliedBefore > 0 && appliedBefore < EMPLOYEES, `applied before the crash: ${appliedBefore}`);

    second = new TestServer({ dir: first.dir, config: CONFIG });
    await second.start();
    // A wait, not a speed check: 42,000 rows again on a loaded machine (PostgreSQL: ~20 s under load).
    const done = await probe.finished(changing, 90_000);
    assert.equal(done.state, 'processed', JSON.stringify(done.outcome));
    assert.equal(done.attempts, 2);
    const expected = { created: added, updated: EMPLOYEES, unchanged: 2, rejected: 0 };
    assert.deepEqual(done.outcome?.counts, expected, `applied before the crash: ${appliedBefore}`);
    assert.match(done.outcome?.summary ?? '', new RegExp(`^${EMPLOYEES + added + 2} rows: ${added} created, ${EMPLOYEES} updated, 2 unchanged, 0 rejected$`));

    // The report the client fetches says the same.
    const local = join(second.dir, 'report.csv');
    const get = await sftpBatch(second.port, 'acme', key.privatePath, [`get out/sal/${changing.replace('ndmat_', 'cdmat_')} ${local}`]);
    assert.equal(get.code, 0, get.stderr);
    const report = readFileSync(local, 'utf8');
    for (const [k, v] of Object.entries(expected)) assert.match(report, new RegExp(`\\r\\n${k};${v}\\r\\n`), `${k};${v} in the report`);

    // The data is right: every e-mail changed, every new employee there once.
    assert.equal(await email(1), 'e1@new.example');
    assert.equal(await email(EMPLOYEES), `e${EMPLOYEES}@new.example`);
    assert.equal((await server.query<{ n: number }>(`SELECT count(*) AS n FROM dir_employees WHERE account_id = 'acme' AND email LIKE '%@new.example'`))[0].n, EMPLOYEES + added);

    // The timeline: attempt 1, interrupted, attempt 2; and `files show` says so.
    const types = (await probe.events(done.id)).map((e) => e.type);
    const at = (type: string, from = 0) => types.indexOf(type, from);
    assert.ok(at('attempt') >= 0 && at('interrupted') > at('attempt') && at('attempt', at('interrupted')) > at('interrupted'), types.join(', '));
    const interrupted = (await probe.events(done.id)).find((e) => e.type === 'interrupted')!;
    assert.equal(interrupted.detail.attempt, 1);
    assert.equal((await probe.events(done.id)).filter((e) => e.type === 'interrupted').length, 1);
    const shown = await second.cli('files', 'show', done.id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\binterrupted\s+attempt=1 .*stopped or crashed/);

    // Replayed once finished, the file changes nothing more, and its new report says so.
    const replay = await second.cli('replay', done.id);
    assert.equal(replay.code, 0, replay.stderr);
    const again = await probe.finished(changing, 90_000);
    assert.deepEqual(again.outcome?.counts, { created: 0, updated: 0, unchanged: EMPLOYEES + added + 2, rejected: 0 });
  });
});
