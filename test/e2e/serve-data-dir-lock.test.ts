import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

const CONFIG = { pgp: { signReports: false } };
const servers: TestServer[] = [];
after(async () => { for (const s of servers.reverse()) await s.cleanup(); });

// #17 item 11: a second serve on the same data directory released the live server's lease,
// marked its file interrupted and started a second attempt before failing on the busy port.
test('a second serve on a data directory in use refuses with FG_DATA_DIR_LOCKED before touching anything; a SIGKILLed server does not block the next',
  { skip: skipUnless('sftp', 'ssh-keygen') }, async () => {
    const first = new TestServer({ config: CONFIG });
    servers.push(first);
    await first.start();
    const key = await createAccount(first, 'acme');
    mkdirSync(join(first.dataDir, 'sftp', 'acme', 'in', 'echo'));
    const probe = new JournalProbe(first);
    const slow = 'ndmat_acme_acme_echo_261120100000.csv';
    writeFileSync(join(first.dir, slow), '#sleep 3000\nonly-once\n');
    const put = await sftpBatch(first.port, 'acme', key.privatePath, [`put ${join(first.dir, slow)} in/echo/`]);
    assert.equal(put.code, 0, put.stderr);
    const deadline = Date.now() + 10_000;
    while (!(await probe.byName(slow)).some((f) => f.state === 'processing')) {
      assert.ok(Date.now() < deadline, 'the file never reached its handler');
      await new Promise((r) => setTimeout(r, 20));
    }

    // The port is the live server's, as an operator starting it twice would do.
    const second = await first.cli('serve', '--port', String(first.port));
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /\[FG_DATA_DIR_LOCKED\]/);
    assert.ok(second.stderr.includes(`pid ${first.pid} `), second.stderr);
    assert.ok(second.stderr.includes(first.dataDir), second.stderr);

    // Other commands keep working beside the server.
    const list = await first.cli('account', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as Array<{ id: string }>).map((a) => a.id), ['acme']);

    const done = await probe.finished(slow, 20_000);
    assert.equal(done.state, 'processed', JSON.stringify(done.outcome));
    assert.equal(done.attempts, 1, 'the live server\'s attempt was the only one');
    const events = (await probe.events(done.id)).map((e) => e.type);
    assert.ok(!events.includes('interrupted'), events.join(', '));
    assert.equal(events.filter((t) => t === 'attempt').length, 1, events.join(', '));

    // A crash leaves no lock behind: the OS released it with the process.
    await first.kill();
    const next = new TestServer({ dir: first.dir, config: CONFIG });
    servers.push(next);
    await next.start();
    assert.ok(existsSync(join(first.dataDir, 'serve.lock.holder')));
    await next.stop();
    assert.ok(!existsSync(join(first.dataDir, 'serve.lock.holder')), 'a clean stop removes the holder record');
  });
