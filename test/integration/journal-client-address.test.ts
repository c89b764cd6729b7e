import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sftpBatch } from '../helpers/clients';
import { ConsoleClient } from '../helpers/console';
import { makeKey, type TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';

// The journal keeps who sent each file (#20): an OpenSSH upload records its client's address and
// key, shown by `files show` (text and JSON), the API, the console and the file.received event;
// a file copied into in/ by other means (cp) has none, and says so. The same through a trusted
// PROXY protocol proxy: test/integration/sftp-proxy-protocol.test.ts.
const skip = skipUnless('sftp', 'ssh-keygen');
const PASSWORD = 'a long console password 42';
let server: TestServer;
let key: TestKey;
let consoleClient: ConsoleClient;

interface FileJson { id: string; name: string; client: { address: string; fingerprint: string | null } | null }

async function journaled(name: string): Promise<FileJson> {
  let found: FileJson | undefined;
  await until(`${name} is journaled`, async () => {
    const r = await server.cli('files', '--account', 'acme', '--json');
    found = (JSON.parse(r.stdout) as FileJson[]).find((f) => f.name === name);
    return found !== undefined;
  }, 15_000, 200);
  return found!;
}

async function shown(id: string): Promise<{ json: FileJson; text: string }> {
  const json = await server.cli('files', 'show', id, '--json');
  assert.equal(json.code, 0, json.stderr);
  const text = await server.cli('files', 'show', id);
  assert.equal(text.code, 0, text.stderr);
  return { json: JSON.parse(json.stdout) as FileJson, text: text.stdout };
}

async function receivedEvent(fileId: string): Promise<Record<string, unknown>> {
  const r = await server.cli('events', 'list', '--type', 'file.received', '--json');
  assert.equal(r.code, 0, r.stderr);
  const event = (JSON.parse(r.stdout) as Array<{ fileId?: string; data: Record<string, unknown> }>).find((e) => e.fileId === fileId);
  assert.ok(event, `a file.received event for ${fileId}`);
  return event.data;
}

before(async () => {
  if (skip) return;
  key = makeKey('ed25519');
  // Every tree watched: a copied file is taken within a second (and races no SFTP announcement).
  server = await new TestServer({ config: { engine: { watch: true } } }).start();
  const added = await server.cli('account', 'add', 'acme', '--key', key.publicPath);
  assert.equal(added.code, 0, added.stderr);
  const admin = await server.cliWithInput(`${PASSWORD}\n`, 'admin', 'add', 'alice', '--role', 'viewer', '--password-stdin');
  assert.equal(admin.code, 0, admin.stderr);
  consoleClient = new ConsoleClient(server.httpUrl!);
  await consoleClient.login('alice', PASSWORD);
});

after(async () => {
  await server?.stop();
  await server?.cleanup();
});

test('an OpenSSH sftp upload records its client: 127.0.0.1 and the key, in files show, the API, the console and file.received', { skip }, async () => {
  const name = 'ndmat_acme_acme_sal_261207040000.csv';
  const local = join(server.dir, name);
  writeFileSync(local, 'matricule,nom\n1,Martin\n');
  const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${local} in/sal/${name}`]);
  assert.equal(put.code, 0, put.stderr);

  const file = await journaled(name);
  const client = { address: '127.0.0.1', fingerprint: key.fingerprint };
  const { json, text } = await shown(file.id);
  assert.deepEqual(json.client, client);
  assert.match(text, new RegExp(`^client\\s+127\\.0\\.0\\.1 \\(key ${key.fingerprint.replace(/[+/]/g, '\\$&')}\\)$`, 'm'));

  const token = await server.cli('token', 'create', '--name', 'viewer-bot', '--role', 'viewer', '--json');
  assert.equal(token.code, 0, token.stderr);
  const api = await fetch(`${server.httpUrl}/api/v1/files/${file.id}`, { headers: { authorization: `Bearer ${(JSON.parse(token.stdout) as { token: string }).token}` } });
  assert.equal(api.status, 200);
  assert.deepEqual(((await api.json()) as FileJson).client, client);

  const page = await consoleClient.get(`/console/files/${encodeURIComponent(file.id)}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<dt>Sent from<\/dt><dd><code>127\.0\.0\.1 \(key SHA256:/);

  assert.equal((await receivedEvent(file.id)).clientAddress, '127.0.0.1');
});

test('a file copied into in/ by cp records no client, and says so', { skip }, async () => {
  const name = 'ndmat_acme_acme_sal_261207040100.csv';
  const local = join(server.dir, name);
  writeFileSync(local, 'matricule,nom\n2,Durand\n');
  execFileSync('cp', [local, join(server.dataDir, 'sftp', 'acme', 'in', 'sal', name)]);

  const file = await journaled(name);
  const { json, text } = await shown(file.id);
  assert.equal(json.client, null);
  assert.match(text, /^client\s+none recorded: found in the account tree/m);

  const page = await consoleClient.get(`/console/files/${encodeURIComponent(file.id)}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<dt>Sent from<\/dt><dd><span class="muted">none recorded: found in the account tree/);

  assert.equal('clientAddress' in (await receivedEvent(file.id)), false);
});
