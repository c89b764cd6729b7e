import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { freeBytes, withTmpfs } from '../helpers/tmpfs';
import { addAccount, FIXTURES, uploadAndWait } from './fixtures-support';

const SIR = join(FIXTURES, 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv');
const MiB = 1024 * 1024;
const PUBLISHED = 'PGP public key published to exchange accounts';

// #17 item 3: pre-sizing the WAL filled a 20 MB disk at every start, and then nothing could be written.
test('on a 20 MiB data disk the server starts, writes its PGP key and processes an upload with a signed report',
  { skip: skipUnless('sftp', 'ssh-keygen', 'tmpfs') }, async () => {
    await withTmpfs(20, async (dir) => {
      const server = new TestServer({ dir, config: { pgp: { signReports: true } } });
      try {
        await server.start();
        // The key is generated in the background: its outcome is logged either way.
        const keyOutcome = await server.waitForLog((l) => l.component === 'pgp' && (l.msg === PUBLISHED || (l.level as number) >= 50), 30_000);
        assert.equal(keyOutcome.msg, PUBLISHED, JSON.stringify(keyOutcome));
        assert.ok(existsSync(join(server.dataDir, 'pgp', 'server-key.asc')), 'no PGP key');
        const wal = join(server.dataDir, 'fluxgate.db-wal');
        assert.ok(statSync(wal).size < 4 * MiB, `the WAL file takes ${statSync(wal).size} bytes`);
        assert.ok(freeBytes(dir) > 10 * MiB, `${freeBytes(dir)} bytes left free`);
        assert.ok(server.logs.some((l) => /little free space/.test(String(l.msg))), 'no warning about the free space');

        const key = await addAccount(server, 'acme');
        const file = await uploadAndWait(server, 'acme', key, SIR, 'in/sir/');
        assert.equal(file.state, 'processed', JSON.stringify(file.outcome));
        const out = readdirSync(join(server.dataDir, 'sftp', 'acme', 'out', 'sir')).sort();
        const report = file.report!.split('/').pop()!;
        assert.deepEqual(out, [report, `${report}.sig`]);
      } finally {
        await server.stop();
      }
    });
  });
