import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataPaths } from '../../core/config/paths';
import { OperatorService } from '../../core/operators/operator-service';
import { SqliteOperatorRepository } from '../../core/store/operators-repository';
import { openDatabase } from '../../core/store/database';
import { ConsoleClient, shownCode } from '../helpers/console';
import { REPO_ROOT, TestServer } from '../helpers/server';

/**
 * Every console route called with no session, an expired and a revoked session cookie, a
 * viewer's and an admin's, over real HTTP against a running server; and every change made
 * with an admin's cookie but without its CSRF token. The table is explicit: a route registered
 * in core/http/console without a row here fails the first test.
 */
type Access = 'public' | 'viewer' | 'admin';
const ROUTES: Record<string, Access> = {
  'GET /': 'public',
  'GET /console': 'public',
  'GET /console/login': 'public',
  'POST /console/login': 'public',
  'POST /console/logout': 'viewer',
  'GET /console/assets/:name': 'public',
  'GET /console/': 'viewer',
  'GET /console/files': 'viewer',
  'GET /console/files/:id': 'viewer',
  'POST /console/files/:id/replay': 'admin',
  'GET /console/accounts': 'viewer',
  'GET /console/accounts/:id': 'viewer',
  'POST /console/accounts': 'admin',
  'POST /console/accounts/:id/keys': 'admin',
  'POST /console/accounts/:id/keys/remove': 'admin',
  'POST /console/accounts/:id/allowlist': 'admin',
  'POST /console/accounts/:id/disable': 'admin',
  'POST /console/accounts/:id/enable': 'admin',
  'POST /console/accounts/:id/remove': 'admin',
  'GET /console/accounts/:id/directory/:kind': 'viewer',
  'GET /console/workflows': 'viewer',
  'GET /console/workflows/edit': 'viewer',
  'POST /console/workflows/save': 'admin',
  'GET /console/jobs': 'viewer',
  'POST /console/jobs/:job/run': 'admin',
  'GET /console/audit': 'viewer',
  'GET /console/events': 'viewer',
  'POST /console/deliveries/:id/retry': 'admin',
  'POST /console/expectations/:name/ack': 'admin',
};
const PARAMS: Record<string, string> = { name: 'console.css', id: 'nosuch', job: 'retention', kind: 'employees' };
const fill = (path: string): string => path.replace(/:(\w+)/g, (_m, p: string) => PARAMS[p]);
/** Harmless forms: a dry run, a workflow that is refused (the file untouched), an unknown account. */
const FORMS: Record<string, Record<string, string>> = {
  'POST /console/jobs/:job/run': { dryRun: 'true' },
  'POST /console/workflows/save': { name: 'sir', source: 'not: [a workflow' },
  'POST /console/login': { name: 'nobody', password: 'wrong password' },
};

/** The routes the console's sources register (`app.get('/console…'`), to keep the table whole. */
function registeredRoutes(): string[] {
  const dir = join(REPO_ROOT, 'core', 'http', 'console');
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/app\.(get|post|put|patch|delete)\('([^']+)'/g)]
    .map((m) => `${m[1].toUpperCase()} ${m[2]}`));
}

const PASSWORD = 'a long enough password';

describe('console: sessions, roles and CSRF on every route', () => {
  let server: TestServer;
  const sessions: Record<'viewer' | 'admin', ConsoleClient> = {} as never;
  const stale: Record<'expired' | 'revoked', string> = {} as never;

  before(async () => {
    const dir = new TestServer().dir;
    cpSync(join(REPO_ROOT, 'workflows'), join(dir, 'workflows'), { recursive: true });
    // Stale cookies count as failures of the address: this table sends dozens on purpose.
    server = await new TestServer({ dir, config: { http: { loginLimit: { maxFailures: 1000 } }, workflowsDir: join(dir, 'workflows') } }).start();
    for (const role of ['viewer', 'admin'] as const) {
      const added = await server.cliWithInput(`${PASSWORD}\n`, 'admin', 'add', `${role}-person`, '--role', role, '--password-stdin');
      assert.equal(added.code, 0, added.stderr);
      sessions[role] = new ConsoleClient(server.httpUrl!);
      await sessions[role].login(`${role}-person`, PASSWORD);
    }
    const db = openDatabase(new DataPaths(server.dataDir).database);
    try {
      const operators = new OperatorService(new SqliteOperatorRepository(db));
      // A session that ended yesterday, and one ended by logging out.
      stale.expired = (await operators.login('admin-person', PASSWORD, 60, Date.now() - 2 * 86_400_000))!.token;
      const revoked = (await operators.login('admin-person', PASSWORD, 60))!;
      stale.revoked = revoked.token;
      await operators.logout((await operators.authenticate(revoked.token))!);
    } finally {
      db.close();
    }
  });
  after(async () => { await server?.cleanup(); });

  test('the table lists exactly the routes the console registers', () => {
    assert.deepEqual([...new Set(registeredRoutes())].sort(), Object.keys(ROUTES).sort());
  });

  for (const who of ['none', 'expired', 'revoked', 'viewer', 'admin'] as const) {
    test(`every console route with ${who === 'none' ? 'no session' : `a${who === 'admin' || who === 'expired' ? 'n' : ''} ${who} session`}`, async () => {
      for (const [route, access] of Object.entries(ROUTES)) {
        const [method, path] = route.split(' ') as [string, string];
        // Logging out would end the session the rest of the table uses (tested below).
        if (route === 'POST /console/logout' && (who === 'viewer' || who === 'admin')) continue;
        let client: ConsoleClient;
        if (who === 'viewer' || who === 'admin') client = sessions[who];
        else {
          client = new ConsoleClient(server.httpUrl!);
          await client.get('/console/login');
          if (who !== 'none') client.cookies.set('fg_session', stale[who]);
        }
        const res = method === 'GET' ? await client.get(fill(path)) : await client.post(fill(path), FORMS[route] ?? {});
        const code = shownCode(res.text);
        const what = `${who} ${route}: ${res.status} ${code ?? ''} ${res.text.slice(0, 300)}`;
        if (access === 'public') assert.ok(res.status < 500 && res.status !== 403 && (res.status !== 401 || route === 'POST /console/login'), what);
        else if (who === 'none' || who === 'expired' || who === 'revoked') {
          // A page load goes to the login form (the stale cookie cleared); a change is refused.
          if (method === 'GET') {
            assert.equal(res.status, 303, what);
            assert.match(res.location ?? '', /^\/console\/login\?next=/, what);
            if (who !== 'none') assert.ok(!client.cookies.has('fg_session'), `${what}: the stale cookie is cleared`);
          } else assert.deepEqual([res.status, code], [401, 'FG_UNAUTHENTICATED'], what);
        } else if (who === 'viewer' && access === 'admin') assert.deepEqual([res.status, code], [403, 'FG_FORBIDDEN'], what);
        else assert.ok(res.status !== 401 && res.status !== 403 && res.status < 500, what);
        assert.doesNotMatch(res.text, /scrypt\$|PRIVATE KEY|fgt_/, `${route} answered with a secret`);
      }
    });
  }

  test('a change with an admin session cookie but no (or another session\'s) CSRF token is refused with FG_CSRF, and changes nothing', async () => {
    const admin = sessions.admin;
    for (const [route, access] of Object.entries(ROUTES)) {
      const [method, path] = route.split(' ') as [string, string];
      if (method !== 'POST' || access !== 'admin') continue;
      const res = await admin.post(fill(path), FORMS[route] ?? {}, false);
      assert.deepEqual([route, res.status, shownCode(res.text)], [route, 403, 'FG_CSRF'], res.text.slice(0, 300));
    }
    // The viewer's token with the admin's cookie: bound to the viewer's session, so refused.
    const res = await admin.request('POST', '/console/accounts', { form: { _csrf: sessions.viewer.csrf!, id: 'sneaky' } });
    assert.deepEqual([res.status, shownCode(res.text)], [403, 'FG_CSRF']);
    assert.equal((await admin.get('/console/accounts/sneaky')).status, 404);
  });

  test('the API with the session cookie needs the CSRF header for changes; with a bearer token it does not', async () => {
    const admin = sessions.admin;
    const body = { id: 'cookie-made', keys: [] };
    const refused = await admin.request('POST', '/api/v1/accounts', { json: body });
    assert.deepEqual([refused.status, shownCode(refused.text)], [403, 'FG_CSRF'], refused.text);
    assert.equal((await admin.get('/api/v1/accounts/cookie-made')).status, 404, 'nothing was created');
    const accepted = await admin.request('POST', '/api/v1/accounts', { json: body, headers: { 'x-csrf-token': admin.csrf! } });
    assert.equal(accepted.status, 201, accepted.text);
    const token = await server.cli('token', 'create', '--name', 'script', '--role', 'admin', '--json');
    const bearer = await fetch(`${server.httpUrl}/api/v1/accounts/cookie-made/disable`, { method: 'POST', headers: { authorization: `Bearer ${(JSON.parse(token.stdout) as { token: string }).token}` } });
    assert.equal(bearer.status, 200, await bearer.text());
  });

  test('cookies are HttpOnly and SameSite=Strict (not Secure without TLS); logout ends the session', async () => {
    const client = new ConsoleClient(server.httpUrl!);
    await client.get('/console/login');
    const csrfCookie = client.lastSetCookie.find((c) => c.startsWith('fg_csrf='));
    assert.ok(csrfCookie, 'the CSRF secret cookie is set with the login form');
    const login = await client.post('/console/login', { name: 'viewer-person', password: PASSWORD });
    assert.equal(login.status, 303);
    const session = client.lastSetCookie.find((c) => c.startsWith('fg_session='));
    for (const cookie of [csrfCookie, session]) {
      assert.match(cookie ?? '', /; HttpOnly/i);
      assert.match(cookie ?? '', /; SameSite=Strict/i);
      assert.doesNotMatch(cookie ?? '', /; Secure/i);
    }
    const oldCookie = client.cookies.get('fg_session')!;
    await client.get('/console/');
    const out = await client.post('/console/logout');
    assert.deepEqual([out.status, out.location], [303, '/console/login']);
    assert.ok(!client.cookies.has('fg_session'));
    client.cookies.set('fg_session', oldCookie);
    assert.equal((await client.get('/console/')).status, 303, 'the old cookie no longer opens a page');
  });

  test('console changes are audited (who, role, action, address), without the password or the CSRF token', async () => {
    const audit = await server.cli('audit', '--json', '--limit', '1000');
    assert.equal(audit.code, 0, audit.stderr);
    const entries = (JSON.parse(audit.stdout) as { items?: unknown[] } | unknown[]);
    const list = (Array.isArray(entries) ? entries : entries.items ?? []) as Array<{ actor: string; role: string; action: string; status: number; address: string; detail: Record<string, unknown> }>;
    const login = list.find((e) => e.action === 'POST /console/login' && e.actor === 'operator:viewer-person' && e.status === 303);
    assert.ok(login, 'a console login is recorded');
    const refused = list.find((e) => e.action === 'POST /console/accounts/:id/disable' && e.role === 'viewer');
    assert.equal(refused?.status, 403);
    assert.match(refused?.address ?? '', /127\.0\.0\.1/);
    assert.doesNotMatch(audit.stdout, new RegExp(PASSWORD));
    assert.doesNotMatch(audit.stdout, /"_csrf":"[^(]/);
  });

  test('no password, hash, session token or CSRF secret in the server\'s log', () => {
    const log = `${JSON.stringify(server.logs)}\n${server.stderr}`;
    assert.ok(server.logs.length > 10, 'the server logged');
    assert.doesNotMatch(log, new RegExp(PASSWORD));
    assert.doesNotMatch(log, /scrypt\$|fgt_|PRIVATE KEY/);
    for (const client of Object.values(sessions)) {
      for (const value of client.cookies.values()) assert.ok(!log.includes(value), 'a cookie value is in the log');
    }
  });
});
