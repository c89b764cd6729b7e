import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { DAY, isoAt, runJob } from '../integration/jobs-support';
import { createAccount } from './engine-support';

const SIR_NAME = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
const SIR = join(REPO_ROOT, 'test/fixtures/exchange', SIR_NAME);
const REPORT_DAYS = 90;

interface Output { file_id: string; path: string; created_at: number }

/**
 * A report is written again under the same path when its input is replayed (a file of the same
 * name uploaded again gets its own, `….2.csv`): retention counts its 90 days from the last write, not the first
 * (real server, uploads over OpenSSH's sftp, `fluxgate replay`, `jobs run retention --at`).
 */
describe('retention of a report written again under the same path', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const server = new TestServer({ config: { pgp: { keyType: 'curve25519' } } });
  let key: TestKey;
  const ids: string[] = [];
  let reportPath = '';

  before(async () => {
    key = await createAccount(server, 'acme');
    await server.start();
  });
  after(async () => {
    await server.stop();
    await server.cleanup();
  });

  const read = <T>(sql: string, ...params: unknown[]): Promise<T[]> => server.query<T>(sql, ...params);
  const reportWrites = (): Promise<Output[]> => read<Output>(`SELECT file_id, path, created_at FROM outputs WHERE kind = 'report' AND path = ? ORDER BY created_at, id`, reportPath);

  /** Waits until the file has `n` report events and is finished again. */
  async function reported(id: string, n: number): Promise<void> {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const [row] = await read<{ state: string; reports: number }>(`SELECT state, (SELECT count(*) FROM file_events WHERE file_id = files.id AND type = 'report') AS reports FROM files WHERE id = ?`, id);
      if (row && row.reports >= n && ['processed', 'rejected', 'dead'].includes(row.state)) return;
    }
    throw new Error(`${id}: no report #${n} in time`);
  }

  async function upload(): Promise<string> {
    const known = new Set(ids);
    const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${SIR} in/sir/${SIR_NAME}`]);
    assert.equal(put.code, 0, put.stderr);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const row = (await read<{ id: string }>('SELECT id FROM files WHERE name = ? ORDER BY received_at, id', SIR_NAME)).find((r) => !known.has(r.id));
      if (row) {
        await reported(row.id, 1);
        return row.id;
      }
    }
    throw new Error('the upload was not journaled');
  }

  const reportOf = async (id: string) => (await read<{ report_path: string }>('SELECT report_path FROM files WHERE id = ?', id))[0].report_path;

  test('the same name uploaded again gets its own report path; a replay writes that one again', async () => {
    ids.push(await upload());
    const first = await reportOf(ids[0]);
    assert.ok(existsSync(first));
    ids.push(await upload()); // the first one was archived: this is a new file with the same name
    assert.notEqual(ids[1], ids[0]);
    reportPath = await reportOf(ids[1]);
    assert.equal(reportPath, first.replace(/\.csv$/, '.2.csv'), 'never over the first file\'s report');
    assert.ok(existsSync(reportPath));
    assert.ok(existsSync(`${reportPath}.sig`), 'reports are signed');
    const replay = await server.cli('replay', ids[1]);
    assert.equal(replay.code, 0, replay.stderr);
    await reported(ids[1], 2);
    assert.equal(await reportOf(ids[1]), reportPath);
    const writes = await reportWrites();
    assert.deepEqual(writes.map((w) => w.file_id), [ids[1], ids[1]]);
    assert.ok(writes[1].created_at > writes[0].created_at);
  });

  test('a dry run one millisecond before 90 days after the LAST write keeps the report and its signature', async () => {
    const writes = await reportWrites();
    const first = writes[0].created_at;
    const last = writes[writes.length - 1].created_at;
    for (const at of [first + REPORT_DAYS * DAY, last + REPORT_DAYS * DAY - 1]) {
      const run = await runJob(server, 'retention', '--dry-run', '--at', isoAt(at));
      assert.equal(run.outcome, 'ok', JSON.stringify(run.errors));
      const targets = run.actions.map((a) => a.target);
      assert.ok(!targets.includes(reportPath), `at ${isoAt(at)} the report must be kept: ${JSON.stringify(run.actions)}`);
      assert.ok(!targets.includes(`${reportPath}.sig`), `at ${isoAt(at)} its signature must be kept`);
    }
    const text = await server.cli('jobs', 'run', 'retention', '--dry-run', '--at', isoAt(last + REPORT_DAYS * DAY - 1));
    // (The first upload's own report, written before, may be due: only the rewritten one is kept here.)
    assert.ok(!text.stdout.includes(`would delete ${reportPath}  `), text.stdout);
  });

  test('90 days after the last write the report goes, dated from that write and tombstoned under the file that wrote it', async () => {
    const writes = await reportWrites();
    const last = writes[writes.length - 1].created_at;
    const dry = await runJob(server, 'retention', '--dry-run', '--at', isoAt(last + REPORT_DAYS * DAY));
    const action = dry.actions.find((a) => a.target === reportPath) as { since?: string; rule?: string } | undefined;
    assert.ok(action, JSON.stringify(dry.actions));
    assert.equal(action.rule, 'report');
    assert.equal(action.since, isoAt(last));

    const run = await runJob(server, 'retention', '--at', isoAt(last + REPORT_DAYS * DAY));
    assert.equal(run.outcome, 'ok', JSON.stringify(run.errors));
    assert.equal(existsSync(reportPath), false);
    assert.equal(existsSync(`${reportPath}.sig`), false);
    const tombstones = await read<{ file_id: string; rule: string }>('SELECT file_id, rule FROM tombstones WHERE path = ?', reportPath);
    assert.deepEqual(tombstones, [{ file_id: ids[1], rule: 'report' }]);
    // What the client sees: no report left in out/sir.
    const ls = await sftpBatch(server.port, 'acme', key.privatePath, ['ls -1 out/sir']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.doesNotMatch(ls.stdout, /cdmat_/);
  });
});
