import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleClient, shownCode } from '../helpers/console';
import { TestServer } from '../helpers/server';

const PASSWORD = 'a long enough password';

/** Console logins: failures limited per address and per name (FG_RATE_LIMITED, 429); the session cookie over TLS. */
describe('console login limits', () => {
  let server: TestServer;

  before(async () => {
    server = await new TestServer({ config: { http: { loginLimit: { maxFailures: 3, windowSeconds: 300, banSeconds: 300 } } } }).start();
    for (const name of ['alice', 'bob']) {
      const added = await server.cliWithInput(`${PASSWORD}\n`, 'admin', 'add', name, '--role', 'viewer', '--password-stdin');
      assert.equal(added.code, 0, added.stderr);
    }
  });
  after(async () => { await server?.cleanup(); });

  const attempt = async (from: string, name: string, password: string) => {
    const client = new ConsoleClient(server.httpUrl!, { localAddress: from });
    await client.get('/console/login');
    const res = await client.post('/console/login', { name, password });
    return { status: res.status, code: shownCode(res.text), text: res.text };
  };

  test('failed logins ban the name from any address and the address for any name, with FG_RATE_LIMITED 429', async () => {
    for (let i = 0; i < 3; i++) assert.deepEqual((await attempt('127.0.0.1', 'alice', 'not the password')).code, 'FG_UNAUTHENTICATED');
    const banned = await attempt('127.0.0.1', 'alice', PASSWORD);
    assert.deepEqual([banned.status, banned.code], [429, 'FG_RATE_LIMITED'], 'the right password is refused too while banned');
    assert.match(banned.text, /retry after \d{4}-/);
    // The name is banned from another address; that address may still log in as someone else.
    assert.deepEqual((await attempt('127.0.0.2', 'alice', PASSWORD)).status, 429);
    assert.deepEqual((await attempt('127.0.0.2', 'bob', PASSWORD)).status, 303);
    // The first address is banned for every name.
    assert.deepEqual((await attempt('127.0.0.1', 'bob', PASSWORD)).status, 429);
    // The API's login shares the counts.
    const api = await fetch(`${server.httpUrl}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob', password: PASSWORD }) });
    assert.equal(api.status, 429);
  });
});

describe('console over TLS', () => {
  let server: TestServer;
  let cert: string;

  before(async () => {
    const dir = new TestServer().dir;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = await new TestServer({ dir, config: { http: { tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } } }).start();
    const added = await server.cliWithInput(`${PASSWORD}\n`, 'admin', 'add', 'alice', '--role', 'admin', '--password-stdin');
    assert.equal(added.code, 0, added.stderr);
  });
  after(async () => { await server?.cleanup(); });

  test('the console is served over https and its cookies are Secure, HttpOnly, SameSite=Strict', async () => {
    assert.match(server.httpUrl!, /^https:\/\//);
    const client = new ConsoleClient(server.httpUrl!, { ca: cert });
    await client.get('/console/login');
    const csrf = client.lastSetCookie.find((c) => c.startsWith('fg_csrf='));
    const login = await client.post('/console/login', { name: 'alice', password: PASSWORD });
    assert.equal(login.status, 303, login.text);
    const session = client.lastSetCookie.find((c) => c.startsWith('fg_session='));
    for (const cookie of [csrf, session]) {
      assert.match(cookie ?? '(none)', /; Secure/i);
      assert.match(cookie ?? '(none)', /; HttpOnly/i);
      assert.match(cookie ?? '(none)', /; SameSite=Strict/i);
    }
    const dashboard = await client.get('/console/');
    assert.equal(dashboard.status, 200);
    assert.match(dashboard.text, /<h1>Dashboard<\/h1>/);
  });
});
