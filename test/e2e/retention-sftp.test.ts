import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import { sftpBatch } from '../helpers/clients';
import { makeKey, type TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { DAY, isoAt, runJob } from '../integration/jobs-support';
import { accountServiceFor } from '../helpers/accounts';

const SIR_NAME = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
const SIR = join(REPO_ROOT, 'test/fixtures/exchange', SIR_NAME);
const BAD = join(REPO_ROOT, 'test/fixtures/bad/wrongname_sal.csv');

interface FileRow { id: string; name: string; state: string; location: string; report_path: string | null; receipt_path: string | null; processed_at: number | null; received_at: number }

/**
 * Retention end to end: real uploads over OpenSSH's sftp, processed by the running server,
 * then `jobs run retention --at` at the policy's edges, and the client's view over sftp.
 */
describe('retention end to end (sftp upload, engine, jobs run --at)', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  // A curve25519 server PGP key: generating the default RSA 4096 one can outlast the start-up timeout on a busy machine.
  const server = new TestServer({ config: { pgp: { keyType: 'curve25519' } } });
  const paths = new DataPaths(server.dataDir);
  const local = join(server.dir, 'client');
  let key: TestKey;
  let processed: FileRow;
  let rejected: FileRow;
  let partial = '';

  before(async () => {
    mkdirSync(local);
    key = makeKey('ed25519');
    await accountServiceFor((await server.store()).store, paths, loadConfig({ configFile: server.configFile }).config)
      .create({ id: 'acme', partner: 'acme', publicKey: key.publicKey });
    await server.start();
  });
  after(async () => {
    await server.stop();
    await server.cleanup();
  });

  async function sftp(...commands: string[]): Promise<string> {
    const r = await sftpBatch(server.port, 'acme', key.privatePath, commands);
    assert.equal(r.code, 0, `sftp ${commands.join(' / ')} failed:\n${r.stderr}`);
    return r.stdout;
  }

  async function finished(name: string): Promise<FileRow> {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const [row] = await server.query<FileRow>('SELECT * FROM files WHERE name = ? ORDER BY received_at DESC', name);
      if (row && ['processed', 'rejected', 'dead'].includes(row.state)) return row;
    }
    throw new Error(`${name} was not processed in time`);
  }

  const journalState = async (id: string): Promise<string> => (await server.query<{ state: string }>('SELECT state FROM files WHERE id = ?', id))[0].state;

  test('uploads are processed: one archived with a report and a receipt, one rejected and quarantined', async () => {
    writeFileSync(join(local, 'half.csv.filepart'), 'an upload that never finished');
    await sftp(`put ${SIR} in/sir/${SIR_NAME}`, `put ${BAD} in/sal/wrongname_sal.csv`, `put ${join(local, 'half.csv.filepart')} in/sal/half.csv.filepart`);
    processed = await finished(SIR_NAME);
    rejected = await finished('wrongname_sal.csv');
    assert.equal(processed.state, 'processed');
    assert.equal(rejected.state, 'rejected');
    assert.ok(existsSync(processed.location) && processed.location.startsWith(join(server.dataDir, 'archive')));
    assert.ok(existsSync(rejected.location) && rejected.location.startsWith(join(server.dataDir, 'quarantine')));
    assert.ok(processed.report_path && existsSync(processed.report_path));
    assert.ok(processed.receipt_path && existsSync(processed.receipt_path));
    partial = join(paths.accountRoot('acme'), 'in/sal/half.csv.filepart');
    assert.ok(existsSync(partial));
  });

  test('day 44 after processing: the archived input is kept', async () => {
    const run = await runJob(server, 'retention', '--at', isoAt(processed.processed_at! + 44 * DAY));
    assert.equal(run.outcome, 'ok', JSON.stringify(run.errors));
    assert.ok(existsSync(processed.location));
    assert.equal(await journalState(processed.id), 'processed');
    assert.equal(existsSync(partial), false, 'the stale .filepart (7 days) is gone');
  });

  test('day 46: the archived input is gone, with a tombstone; its report stays for 90 days', async () => {
    const run = await runJob(server, 'retention', '--at', isoAt(processed.processed_at! + 46 * DAY));
    assert.equal(run.counts['delete:archive'], 1);
    assert.equal(existsSync(processed.location), false);
    assert.equal(await journalState(processed.id), 'deleted');
    assert.ok(existsSync(processed.report_path!));
    const tombs = await server.cli('jobs', 'tombstones', '--file', processed.id, '--json');
    const list = JSON.parse(tombs.stdout) as Array<{ name: string; rule: string; size: number; sha256: string }>;
    const archived = list.find((t) => t.rule === 'archive')!;
    assert.equal(archived.name, `${processed.id}_${SIR_NAME}`);
    const [sha] = await server.query<{ sha256: string; size: number }>('SELECT sha256, size FROM files WHERE id = ?', processed.id);
    assert.equal(archived.sha256, sha.sha256);
    assert.equal(archived.size, sha.size);
  });

  test('day 89 after reception the quarantined file and the reports are kept; day 91 they are gone, the public key stays', async () => {
    await runJob(server, 'retention', '--at', isoAt(rejected.received_at + 89 * DAY));
    assert.ok(existsSync(rejected.location));
    assert.ok(existsSync(processed.report_path!));

    const run = await runJob(server, 'retention', '--at', isoAt(Math.max(rejected.received_at, processed.processed_at!) + 91 * DAY));
    assert.equal(run.outcome, 'ok', JSON.stringify(run.errors));
    assert.equal(run.counts['delete:quarantine'], 1);
    assert.ok((run.counts['delete:report'] ?? 0) >= 2, JSON.stringify(run.counts));
    assert.equal(existsSync(rejected.location), false);
    assert.equal(await journalState(rejected.id), 'deleted');
    assert.equal(existsSync(processed.report_path!), false);
    assert.equal(existsSync(processed.receipt_path!), false);
    // What the client sees: out/ emptied of old answers, the server's public key still there.
    const listing = await sftp('ls -1 out/sir', 'ls -1 out/tra', 'ls -1 out/sig');
    assert.doesNotMatch(listing, /cdmat_/);
    assert.match(listing, /fluxgate-public-key\.asc/);
  });
});
