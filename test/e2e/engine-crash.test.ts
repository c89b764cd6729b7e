import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

const CONFIG = { pgp: { signReports: false, keyType: 'curve25519' } };

describe('crash safety: kill -9 during processing', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  let first: TestServer | undefined;
  let second: TestServer | undefined;
  after(async () => {
    await second?.cleanup();
    await first?.cleanup();
  });

  test('after a restart each file is processed to completion exactly once, including files that arrived while down', async () => {
    first = new TestServer({ config: CONFIG });
    await first.start();
    const key = await createAccount(first, 'acme');
    const root = join(first.dataDir, 'sftp', 'acme');
    mkdirSync(join(root, 'in', 'echo'));
    const probe = new JournalProbe(first);
    // A file whose handler takes a while: the server is killed in the middle of it.
    const slow = 'ndmat_acme_acme_echo_261120100000.csv';
    writeFileSync(join(first.dir, slow), '#sleep 2500\nonly-once\n');
    const put = await sftpBatch(first.port, 'acme', key.privatePath, [`put ${join(first.dir, slow)} in/echo/`]);
    assert.equal(put.code, 0, put.stderr);
    const deadline = Date.now() + 10_000;
    while (!(await probe.byName(slow)).some((f) => f.state === 'processing' && f.receiptWrittenAt)) {
      assert.ok(Date.now() < deadline, 'the file never reached its handler');
      await new Promise((r) => setTimeout(r, 20));
    }
    await first.kill();

    // While the server is down, a file lands in in/ by other means (a co-located OpenSSH).
    const offline = 'ndmat_acme_acme_echo_261120100100.csv';
    writeFileSync(join(root, 'in', 'echo', `${offline}.filepart`), 'while-down\n');
    renameSync(join(root, 'in', 'echo', `${offline}.filepart`), join(root, 'in', 'echo', offline));

    second = new TestServer({ dir: first.dir, config: CONFIG });
    await second.start();
    const a = await probe.finished(slow, 20_000);
    const b = await probe.finished(offline, 20_000);

    for (const [f, name] of [[a, slow], [b, offline]] as const) {
      assert.equal(f.state, 'processed', `${name}: ${JSON.stringify(f.outcome)}`);
      assert.equal((await probe.byName(name)).length, 1, `${name}: exactly one journal entry`);
      assert.ok(f.location.startsWith(join(first.dataDir, 'archive', 'acme', 'echo')), f.location);
      assert.ok(existsSync(join(first.dataDir, 'vault', 'acme', 'echo', `${f.id}.json`)), 'applied');
    }
    assert.equal(a.attempts, 2, 'the interrupted attempt, then the one that completed');
    assert.deepEqual(readdirSync(join(root, 'in', 'echo')), [], 'nothing left in in/');
    const archived = readdirSync(join(first.dataDir, 'archive', 'acme', 'echo'));
    assert.equal(archived.filter((n) => n.endsWith(slow)).length, 1, 'one archived copy');
    // one proof of receipt per file (the one made before the crash is not made again), one report each
    const receipts = readdirSync(join(root, 'out', 'tra')).filter((n) => n.endsWith('.xml'));
    assert.equal(receipts.length, 2, receipts.join(', '));
    assert.equal(receipts.filter((n) => readFileSync(join(root, 'out', 'tra', n), 'utf8').includes(`<file_name>${slow}</file_name>`)).length, 1);
    const reports = readdirSync(join(root, 'out', 'echo')).filter((n) => !n.startsWith('.'));
    assert.deepEqual(reports.sort(), [slow.replace('ndmat_', 'cdmat_'), offline.replace('ndmat_', 'cdmat_')].sort());
    assert.match(readFileSync(join(root, 'out', 'echo', slow.replace('ndmat_', 'cdmat_')), 'utf8'), /\r\ncreated;1\r\n/);
    // the watcher/scan did not take the offline file twice, and the restart was logged as a resume
    assert.ok(second.logs.some((l) => l.msg === 'resuming files interrupted by a stop or crash'));
    assert.equal((await probe.events(b.id)).filter((e) => e.type === 'received').length, 1);
  });
});
