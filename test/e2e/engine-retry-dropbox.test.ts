import { strict as assert } from 'node:assert';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DataPaths } from '../../core/config/paths';
import { sftpBatch } from '../helpers/clients';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

const HEADER = 'Name,Email,Employee ID';

/**
 * A drop-box full sync whose first attempt applied everything, then failed (its input could not
 * be archived: a file stands where the archive directory goes): the retry finds every row as it
 * would write it. It must still report what the file did (the new employee created, the absent
 * ones deactivated), and a row repeated in the file stays unchanged.
 */
describe('retry after a failure past the handler (drop-box full sync)', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  let server: TestServer | undefined;
  after(async () => { await server?.cleanup(); });

  test('1 created, 2 deactivated (updated), 2 unchanged, reported by the attempt that completes', async () => {
    server = new TestServer({ config: { engine: { retry: { baseDelayMs: 1500, maxDelayMs: 1500 } } } });
    const key = await createAccount(server, 'hris', 'dropbox');
    await server.start();
    const update = await server.cli('account', 'update', 'hris', '--deactivate-missing', 'on');
    assert.equal(update.code, 0, update.stderr);
    const probe = new JournalProbe(server);
    const put = async (name: string, lines: string[]) => {
      const local = join(server!.dir, name);
      writeFileSync(local, [HEADER, ...lines].join('\r\n') + '\r\n');
      const r = await sftpBatch(server!.port, 'hris', key.privatePath, [`put ${local} /${name}`]);
      assert.equal(r.code, 0, r.stderr);
    };
    await put('everyone.csv', ['Ada Lovelace,ada@hris.example,E1', 'Bob Martin,bob@hris.example,E2', 'Cyd Charisse,cyd@hris.example,E3']);
    const setup = await probe.finished('everyone.csv');
    assert.deepEqual(setup.outcome?.counts, { created: 3, updated: 0, unchanged: 0, rejected: 0 });

    // The archive directory of the flux is replaced by a file: archiving the next input fails.
    const archive = new DataPaths(server.dataDir).archive('hris', 'dropbox');
    renameSync(archive, `${archive}.aside`);
    writeFileSync(archive, 'not a directory');
    await put('sync.csv', ['Ada Lovelace,ada@hris.example,E1', 'Ada Lovelace,ada@hris.example,E1', 'Dan Brown,dan@hris.example,E4']);
    const deadline = Date.now() + 20_000;
    let failedAttempt: string | undefined;
    while (!failedAttempt) {
      assert.ok(Date.now() < deadline, 'the first attempt did not fail');
      const [f] = (await probe.byName('sync.csv'));
      if (f && (await probe.events(f.id)).some((e) => e.type === 'attempt-failed')) failedAttempt = f.id;
      else await new Promise((r) => setTimeout(r, 10));
    }
    rmSync(archive);
    renameSync(`${archive}.aside`, archive);
    const first = (await probe.events(failedAttempt)).find((e) => e.type === 'handled')!;
    assert.deepEqual(first.detail.counts, { created: 1, updated: 2, unchanged: 2, rejected: 0 }, 'the first attempt applied the file');

    const done = await probe.finished('sync.csv');
    assert.equal(done.state, 'processed', JSON.stringify(done.outcome));
    assert.equal(done.attempts, 2);
    assert.deepEqual(done.outcome?.counts, { created: 1, updated: 2, unchanged: 2, rejected: 0 });
    assert.equal(done.outcome?.summary, '1 created, 2 updated (2 deactivated), 2 unchanged, 0 rejected');
    const shown = JSON.parse((await server.cli('files', 'show', done.id, '--json')).stdout) as { events: Array<{ type: string; messages?: Array<{ entityId?: string; message: string }> }> };
    const reports = shown.events.filter((e) => e.type === 'report');
    const last = reports[reports.length - 1].messages!;
    const deactivated = last.filter((m) => m.message === 'not in this full-sync file: deactivated').map((m) => m.entityId).sort();
    assert.deepEqual(deactivated, ['bob@hris.example', 'cyd@hris.example']);
    assert.deepEqual(last.filter((m) => m.message === 'created').map((m) => m.entityId), ['dan@hris.example']);
  });
});
