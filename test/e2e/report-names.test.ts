import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DataPaths } from '../../core/config/paths';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { REPO_ROOT, TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { createAccount, JournalProbe } from './engine-support';

// Different uploads can map to one report name (an invisible character after the extension, another
// extension, the same name again): over OpenSSH's sftp, each gets its own report and receipt, and
// the genuine file's report is never replaced. A name with an invisible character is refused with
// its own code (FG_NAME_INVISIBLE), the character named.
const GENUINE = 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv';
const FIXTURE = join(REPO_ROOT, 'test/fixtures/exchange', GENUINE);
const ZWSP = '\u200B';

describe('reports and receipts never replace another file\'s', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  const server = new TestServer({ config: { pgp: { signReports: true } } });
  const paths = new DataPaths(server.dataDir);
  const outSir = () => join(paths.accountRoot('acme'), 'out', 'sir');
  let key: TestKey;
  let probe: JournalProbe;
  let genuineReport = '';
  let genuineText = '';

  before(async () => {
    key = await createAccount(server, 'acme');
    await server.start();
    probe = new JournalProbe(server);
  });
  after(async () => {
    await server.cleanup();
  });

  async function upload(name: string) {
    const local = join(mkdtempSync(join(tmpdir(), 'fg-names-')), name);
    copyFileSync(FIXTURE, local);
    const known = new Set((await probe.byName(name)).map((f) => f.id));
    const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/sir/`]);
    assert.equal(put.code, 0, put.stderr);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const f = (await probe.byName(name)).find((x) => !known.has(x.id) && ['processed', 'rejected', 'dead'].includes(x.state));
      if (f) return f;
    }
    throw new Error(`${name} not finished`);
  }

  test('the genuine file', async () => {
    const f = await upload(GENUINE);
    assert.equal(f.state, 'processed');
    genuineReport = join(outSir(), 'cdmat_acme_acme_sir_hrmanager_v6_261120090000.csv');
    assert.equal(f.reportPath, genuineReport);
    genuineText = readFileSync(genuineReport, 'utf8');
    assert.match(genuineText, /result;processed/);
  });

  test('a zero-width space after the extension: FG_NAME_INVISIBLE, its own report, the genuine one untouched', async () => {
    const name = `${GENUINE}${ZWSP}`;
    const f = await upload(name);
    assert.equal(f.state, 'rejected');
    assert.equal(f.outcome?.code, 'FG_NAME_INVISIBLE');
    assert.match(f.outcome?.summary ?? '', /invisible character U\+200B at character 50/);
    assert.equal(f.reportPath, join(outSir(), 'cdmat_acme_acme_sir_hrmanager_v6_261120090000.2.csv'));
    assert.match(readFileSync(f.reportPath, 'utf8'), /FG_NAME_INVISIBLE/);
    assert.ok(existsSync(`${f.reportPath}.sig`), 'its own signature');
    assert.equal(readFileSync(genuineReport, 'utf8'), genuineText, 'the genuine report is not replaced');
    const receipts = (await probe.list({ accountId: 'acme', limit: 1000 })).files.map((x) => x.receiptPath);
    assert.equal(new Set(receipts).size, receipts.length, `one receipt each: ${JSON.stringify(receipts)}`);
  });

  test('a zero-width space inside the name: the report name shows it as [U+200B]', async () => {
    const name = GENUINE.replace('261120090000', `2611200900${ZWSP}00`);
    const f = await upload(name);
    assert.equal(f.outcome?.code, 'FG_NAME_INVISIBLE');
    assert.equal(basename(f.reportPath!), 'cdmat_acme_acme_sir_hrmanager_v6_2611200900[U+200B]00.csv');
  });

  test('another extension, then the same name again: each its own report; the genuine one untouched', async () => {
    const xml = await upload(GENUINE.replace(/\.csv$/, '.xml'));
    assert.equal(xml.outcome?.code, 'FG_NAME_CONVENTION');
    assert.equal(basename(xml.reportPath!), 'cdmat_acme_acme_sir_hrmanager_v6_261120090000.3.csv');
    const again = await upload(GENUINE);
    assert.equal(again.state, 'processed');
    assert.equal(basename(again.reportPath!), 'cdmat_acme_acme_sir_hrmanager_v6_261120090000.4.csv');
    assert.equal(readFileSync(genuineReport, 'utf8'), genuineText, 'the genuine report is not replaced');
    const reports = readdirSync(outSir()).filter((n) => n.endsWith('.csv'));
    assert.equal(reports.length, 5, JSON.stringify(reports));
  });

  test('a replay rewrites the file\'s own report, under its own name', async () => {
    const [first] = (await probe.byName(GENUINE));
    const replay = await server.cli('replay', first.id);
    assert.equal(replay.code, 0, replay.stderr);
    for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 50))) {
      if ((await probe.events(first.id)).filter((e) => e.type === 'report').length >= 2 && (await probe.get(first.id))?.state === 'processed') break;
      if (Date.now() > deadline) throw new Error('replay not reported');
    }
    assert.equal((await probe.get(first.id))?.reportPath, genuineReport);
    assert.equal(readdirSync(outSir()).filter((n) => n.endsWith('.csv')).length, 5, 'no new report name');
  });
});
