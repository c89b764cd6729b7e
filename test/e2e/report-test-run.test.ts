import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

const SIR = join(REPO_ROOT, 'test/fixtures/exchange/ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv');
const ORGANIZATIONS = readFileSync(SIR, 'utf8').trim().split('\n').length - 1;
/** The lines every report starts with, in this order, whatever happened. */
const SUMMARY_KEYS = ['file', 'received', 'created', 'updated', 'unchanged', 'rejected', 'result'];

/**
 * A test file (version `tst`) on a production server is validated and counted but applied
 * nowhere: the report the client fetches over sftp must say so unmistakably, with the same
 * summary lines (and counts) a client parses in every report.
 */
describe('the report of a test file in production says nothing was applied', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const server = new TestServer({ config: { environment: 'production', pgp: { signReports: false } } });
  let key: TestKey;
  let probe: JournalProbe;

  before(async () => {
    key = await createAccount(server, 'acme');
    await server.start();
    probe = new JournalProbe(server);
  });
  after(async () => {
    await server.cleanup();
  });

  /** Uploads a copy of the sir fixture under `name` with sftp, waits, and fetches its report with sftp. */
  async function send(name: string): Promise<{ id: string; lines: string[][]; summary?: string }> {
    const local = join(server.dir, name);
    copyFileSync(SIR, local);
    const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/sir/`]);
    assert.equal(put.code, 0, put.stderr);
    const f = await probe.finished(name);
    assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
    const fetched = join(server.dir, `fetched-${name}`);
    const get = await sftpBatch(server.port, 'acme', key.privatePath, [`get out/sir/${name.replace('ndmat_', 'cdmat_')} ${fetched}`]);
    assert.equal(get.code, 0, get.stderr);
    const text = readFileSync(fetched, 'utf8').replace(/^\uFEFF/, '');
    const block = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n').map((l) => l.split(';'));
    return { id: f.id, lines: block, summary: f.outcome?.summary };
  }

  test('tst: counts as always, then applied;no and a summary that says TEST RUN, NOTHING APPLIED; nothing in the directory', async () => {
    const { id, lines, summary } = await send('ndmat_acme_acme_sir_tst_261120090000.csv');
    assert.deepEqual(lines.slice(0, 7).map((l) => l[0]), SUMMARY_KEYS);
    const value = (k: string) => lines.find((l) => l[0] === k)?.[1];
    assert.equal(value('created'), String(ORGANIZATIONS), 'what applying it would have done');
    assert.equal(value('result'), 'processed');
    assert.deepEqual(lines[7], ['applied', 'no'], 'right after the lines every report has');
    assert.match(value('summary') ?? '', /^TEST RUN, NOTHING APPLIED \(version tst, production\): the counts are what applying the file would have done\. \d+ rows: \d+ created/);
    // The journal says the same (fluxgate files / files show).
    assert.match(summary ?? '', /^TEST RUN, NOTHING APPLIED/);
    const shown = await server.cli('files', 'show', id);
    assert.match(shown.stdout, /\breport\s+result=processed applied=false /);
    const orgs = await server.cli('directory', 'organizations', '--account', 'acme', '--json');
    assert.deepEqual(JSON.parse(orgs.stdout), [], 'nothing applied');
  });

  test('the same file as v6: applied, no applied line, the summary as before', async () => {
    const { lines, summary } = await send('ndmat_acme_acme_sir_v6_261120090100.csv');
    assert.deepEqual(lines.slice(0, 7).map((l) => l[0]), SUMMARY_KEYS);
    assert.equal(lines.find((l) => l[0] === 'created')?.[1], String(ORGANIZATIONS));
    assert.equal(lines.find((l) => l[0] === 'applied'), undefined);
    assert.match(lines.find((l) => l[0] === 'summary')?.[1] ?? '', /^\d+ rows: \d+ created/);
    assert.doesNotMatch(summary ?? '', /TEST RUN/);
    const orgs = await server.cli('directory', 'organizations', '--account', 'acme', '--json');
    assert.equal((JSON.parse(orgs.stdout) as unknown[]).length, ORGANIZATIONS);
  });
});
