import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PARAMIKO_CONNECT, python, sftpBatch } from '../helpers/clients';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount } from './engine-support';

let server: TestServer | undefined;
after(async () => { await server?.cleanup(); });

/** The pid of a process that has exited: the owner of a killed writer's temporaries. */
function deadPid(): number {
  return spawnSync('true').pid;
}

// #17 item 15 (engine half): a kill during signing left a 0-byte `.fg-pgp-….sig` in out/sal that
// clients could list and that nothing ever removed.
test('temporaries of a killed process are removed at start, never listed, and clients cannot make them',
  { skip: skipUnless('sftp', 'ssh-keygen', 'paramiko') }, async () => {
    server = new TestServer();
    const key = await createAccount(server, 'acme');
    const root = join(server.dataDir, 'sftp', 'acme');
    const dead = deadPid();
    const leftovers = [
      join(root, 'out', 'sal', `.fg-pgp-${dead}-0123abcd-cdmat_acme_tra_sal_261120090000.csv.sig`), // what the issue found (earlier naming)
      join(root, 'out', 'sal', `.fg-tmp-${dead}-89abcdef-cdmat_acme_acme_sal_261120090000.csv`), // a report being written
      join(root, 'out', 'tra', '.fg-tmp-3f2b8c1e-5d6a-4e7f-8a9b-0c1d2e3f4a5b-cdmat_acme_tra_sal_261120090000.xml'), // earlier naming, no pid
      join(root, 'in', 'sal', '.fg-upload-0123456789ab-ndmat_acme_acme_sal_261120090000.csv'), // a killed upload
      join(server.dataDir, 'pgp', `.fg-tmp-${dead}-00ff00ff-server-key.asc`), // a key being written
    ];
    // A live process's temporary (a CLI command writing right now), and a client's own dot-file.
    const live = join(root, 'out', 'sal', `.fg-tmp-${process.pid}-aabbccdd-cdmat_acme_acme_sal_261120090100.csv`);
    const clientDotFile = join(root, 'dev', '.keep');
    mkdirSync(join(server.dataDir, 'pgp'), { recursive: true });
    for (const file of [...leftovers, live, clientDotFile]) writeFileSync(file, file.endsWith('.sig') ? '' : 'x'.repeat(1000));

    await server.start();
    // Swept in the background once the server listens (#19: not before, with thousands of trees to walk).
    const swept = await server.waitForLog((l) => l.msg === 'removed temporary files left by a stopped or killed process');
    assert.equal(swept.count, leftovers.length, JSON.stringify(swept));
    for (const file of leftovers) assert.ok(!existsSync(file), `${file} was left`);
    assert.ok(existsSync(live), 'a live process\'s temporary was removed');
    assert.ok(existsSync(clientDotFile), 'a client\'s dot-file was removed');

    // Listed by neither client, though it is there.
    const ls = await sftpBatch(server.port, 'acme', key.privatePath, ['ls -la out/sal']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.doesNotMatch(ls.stdout, /\.fg-/);
    const listdir = await python(`${PARAMIKO_CONNECT}\nprint(sftp.listdir('out/sal'))\n`, [String(server.port), 'acme', key.privatePath]);
    assert.equal(listdir.code, 0, listdir.stderr);
    assert.equal(listdir.stdout.trim(), '[]');

    // A client cannot make or reach a name the sweep would remove.
    writeFileSync(join(server.dir, 'local.txt'), 'client data\n');
    for (const name of [`.fg-tmp-${dead}-01234567-notes.txt`, `.fg-pgp-${dead}-01234567-notes.txt`, '.fg-upload-0123456789ab-notes.txt']) {
      const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${join(server.dir, 'local.txt')} dev/${name}`]);
      assert.notEqual(put.code, 0, `${name} was accepted`);
      assert.ok(!existsSync(join(root, 'dev', name)), name);
    }
    const get = await sftpBatch(server.port, 'acme', key.privatePath, [`get out/sal/${live.split('/').pop()} ${join(server.dir, 'got')}`]);
    assert.notEqual(get.code, 0, 'a live temporary could be downloaded');
  });
