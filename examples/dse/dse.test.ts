import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer, REPO_ROOT } from '../../test/helpers/server';
import { sftpBatch } from '../../test/helpers/clients';
import { makeKey, type TestKey } from '../../test/helpers/keys';
import { skipUnless } from '../../test/helpers/tools';

// The dse example plugin, loaded the way the README tells an integrator to (plugins: + a
// workflow file), on the real server, with files uploaded over SFTP.
const skip = skipUnless('sftp', 'ssh-keygen');
const SAMPLE = join(__dirname, 'sample', 'ndmat_acme_acme_dse_v1_261121090000.csv');
let server: TestServer;
let key: TestKey;

interface JournalFile { name: string; state: string; report: string | null; outcome: { code?: string; counts?: Record<string, number> } | null }

async function upload(local: string): Promise<JournalFile> {
  const r = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/dse/`]);
  assert.equal(r.code, 0, r.stderr);
  const name = local.split('/').pop()!;
  for (let i = 0; i < 200; i++) {
    const files = JSON.parse((await server.cli('files', '--account', 'acme', '--json')).stdout) as JournalFile[];
    const f = files.find((x) => x.name === name && ['processed', 'rejected', 'dead'].includes(x.state));
    if (f) return f;
    await new Promise((res) => setTimeout(res, 150));
  }
  throw new Error(`${name} was not processed`);
}

const store = () => JSON.parse(readFileSync(join(server.dataDir, 'vault', 'acme', 'dse', 'datasets.json'), 'utf8')) as Record<string, Record<string, { label: string; description: string | null }>>;
const report = (f: JournalFile) => readFileSync(f.report!.startsWith('/') ? f.report! : join(server.dataDir, 'sftp', 'acme', f.report!), 'utf8');

function copyAs(name: string, content?: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fg-dse-')), name);
  if (content === undefined) copyFileSync(SAMPLE, path);
  else writeFileSync(path, content);
  return path;
}

before(async () => {
  if (skip) return;
  const workflows = mkdtempSync(join(tmpdir(), 'fg-dse-wf-'));
  cpSync(join(REPO_ROOT, 'workflows'), workflows, { recursive: true });
  copyFileSync(join(__dirname, 'dse.yaml'), join(workflows, 'dse.yaml'));
  server = new TestServer({ config: { plugins: [join(__dirname, 'index.ts')], workflowsDir: workflows, pgp: { keyType: 'curve25519' } } });
  await server.start();
  key = makeKey();
  assert.equal((await server.cli('account', 'add', 'acme', '--key', key.publicPath)).code, 0);
  mkdirSync(join(server.dataDir, 'sftp', 'acme', 'in', 'dse'), { recursive: true });
});
after(async () => { await server?.cleanup(); });

test('the sample dse file applies: 5 values created, report in out/dse', { skip }, async () => {
  const f = await upload(SAMPLE);
  assert.equal(f.state, 'processed', JSON.stringify(f.outcome));
  assert.deepEqual({ ...f.outcome?.counts }, { created: 5, updated: 0, unchanged: 0, rejected: 0 });
  assert.match(f.report!, /out\/dse\/cdmat_acme_acme_dse_v1_261121090000\.csv$/);
  assert.deepEqual(store().JOB.PAY, { label: 'Payroll officer', description: 'Pays; and checks' });
  assert.deepEqual(Object.keys(store().SITE).sort(), ['BER', 'PAR']);
});

test('sending it again changes nothing; a changed label is an update', { skip }, async () => {
  const again = await upload(copyAs('ndmat_acme_acme_dse_v1_261121090100.csv'));
  assert.deepEqual({ ...again.outcome?.counts }, { created: 0, updated: 0, unchanged: 5, rejected: 0 });
  const changed = await upload(copyAs('ndmat_acme_acme_dse_v1_261121090200.csv', 'dataset_code;value_code;label\nSITE;PAR;Paris HQ\n'));
  assert.deepEqual({ ...changed.outcome?.counts }, { created: 0, updated: 1, unchanged: 0, rejected: 0 });
  assert.equal(store().SITE.PAR.label, 'Paris HQ');
});

test('row errors are reported with line, field and code; the other rows apply', { skip }, async () => {
  const f = await upload(copyAs('ndmat_acme_acme_dse_v1_261121090300.csv', [
    'dataset_code;value_code;label;description',
    'JOB;OPS;Operations;',      // 2 ok
    'JOB;;No code;',            // 3 FG_REQUIRED
    'JOB;A B;Space;',           // 4 FG_INVALID_VALUE
    'SITE;LYO;Lyon;',           // 5 FG_DUP_IN_FILE
    'SITE;LYO;Lyons;',          // 6 FG_DUP_IN_FILE
  ].join('\r\n') + '\r\n'));
  assert.equal(f.state, 'processed');
  assert.deepEqual({ ...f.outcome?.counts }, { created: 1, updated: 0, unchanged: 0, rejected: 4 });
  const text = report(f);
  assert.match(text, /\n3;2;value_code;error;FG_REQUIRED;/);
  assert.match(text, /\n4;2;value_code;error;FG_INVALID_VALUE;/);
  assert.match(text, /\n5;2;value_code;error;FG_DUP_IN_FILE;/);
  assert.match(text, /\n6;2;value_code;error;FG_DUP_IN_FILE;/);
  assert.equal(store().SITE.LYO, undefined);
});

test('a file-level problem rejects the whole file (the reader does that for the plugin)', { skip }, async () => {
  const f = await upload(copyAs('ndmat_acme_acme_dse_v1_261121090400.csv', 'dataset_code,value_code,label\nJOB,X,Y\n'));
  assert.equal(f.state, 'rejected');
  assert.equal(f.outcome?.code, 'FG_SEPARATOR');
});
