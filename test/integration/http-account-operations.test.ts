import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';

interface ImportAnswer { dryRun: boolean; counts: Record<string, number>; rows: Array<{ line: number; id: string; status: string; code?: string }> }

/** POST /api/v1/accounts/import: the CSV of `fluxgate account import`, checked by the same service, with a dry run. */
describe('API: account import and export, PGP, tombstones', { skip: skipUnless('ssh-keygen') }, () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await new TestServer().start();
    const made = await server.cli('token', 'create', '--name', 'importer', '--role', 'admin', '--json');
    token = (JSON.parse(made.stdout) as { token: string }).token;
  });
  after(async () => { await server?.cleanup(); });

  const post = async (body: unknown) => {
    const res = await fetch(`${server.httpUrl}/api/v1/accounts/import`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() as ImportAnswer & { error?: { code: string; message: string } } };
  };
  const exists = async (id: string) => (await fetch(`${server.httpUrl}/api/v1/accounts/${id}`, { headers: { authorization: `Bearer ${token}` } })).status === 200;

  test('a dry run reports each row and writes nothing; the import creates the good rows (with their trees) and refuses the bad one', async () => {
    const a = makeKey('ed25519');
    const b = makeKey('ed25519');
    const csv = `id,profile,partner,keys,allow_ips,enabled\nacme,exchange,ACME,${a.publicKey},10.0.0.0/8,\nbeta,dropbox,,${b.publicKey},,false\nBad Id,exchange,,${a.publicKey},,\n`;
    const dry = await post({ csv, dryRun: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body.counts, { created: 2, unchanged: 0, conflict: 0, refused: 1 });
    assert.deepEqual(dry.body.rows.map((r) => [r.line, r.id, r.status, r.code]), [[2, 'acme', 'created', undefined], [3, 'beta', 'created', undefined], [4, 'Bad Id', 'refused', 'FG_ACCOUNT_ID']]);
    assert.equal(await exists('acme'), false, 'a dry run creates nothing');

    const done = await post({ csv });
    assert.equal(done.status, 200);
    assert.equal(done.body.dryRun, false);
    assert.deepEqual(done.body.counts, { created: 2, unchanged: 0, conflict: 0, refused: 1 });
    assert.equal(await exists('acme'), true);
    assert.ok(existsSync(join(server.dataDir, 'sftp', 'acme', 'in', 'sal')), "the account's tree is made");
    // Again: what exists and matches is unchanged.
    assert.deepEqual((await post({ csv })).body.counts, { created: 0, unchanged: 2, conflict: 0, refused: 1 });
  });

  test('export (JSON and CSV) reads back through import as unchanged; require encryption; PGP info and publish; tombstones', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const get = async (path: string) => fetch(`${server.httpUrl}${path}`, { headers: auth });
    const exported = await (await get('/api/v1/accounts/export')).json() as { accounts: Array<{ id: string; keys: string[] }>; purged: string[] };
    assert.deepEqual(exported.accounts.map((a) => a.id), ['acme', 'beta']);
    const csv = await get('/api/v1/accounts/export?format=csv');
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const text = await csv.text();
    assert.match(text, /^id,profile,partner,keys,allow_ips,enabled/);
    assert.deepEqual((await post({ csv: text, dryRun: true })).body.counts, { created: 0, unchanged: 2, conflict: 0, refused: 0 });

    const required = await fetch(`${server.httpUrl}/api/v1/accounts/acme/pgp`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ requireEncryption: true }) });
    assert.deepEqual(await required.json(), { account: 'acme', requireEncryption: true });
    const shown = await server.cli('account', 'show', 'acme', '--json');
    assert.equal((JSON.parse(shown.stdout) as { options: { requireEncryption?: boolean } }).options.requireEncryption, true);

    const info = await (await get('/api/v1/pgp')).json() as { fingerprint: string; publishedAs: string };
    const publicKey = await (await get('/api/v1/pgp/public-key')).json() as { fingerprint: string };
    assert.equal(info.fingerprint, publicKey.fingerprint);
    assert.doesNotMatch(JSON.stringify(info), /PRIVATE/);
    const published = await (await fetch(`${server.httpUrl}/api/v1/pgp/publish`, { method: 'POST', headers: auth })).json() as Record<string, unknown>;
    assert.deepEqual(published, { fingerprint: info.fingerprint, written: 0, unchanged: 1, skipped: 1 }, 'acme has it since it was created; beta is a drop-box');
    assert.deepEqual(await (await get('/api/v1/jobs/tombstones?account=acme')).json(), []);
  });

  test('a file that is not the accounts CSV is refused as a whole, with the CLI\'s code', async () => {
    const res = await post({ csv: 'id,keys,allow_ip\nacme,,1.2.3.4\n' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error?.code, 'FG_CSV');
    assert.match(res.body.error?.message ?? '', /unknown column "allow_ip"/);
  });
});
