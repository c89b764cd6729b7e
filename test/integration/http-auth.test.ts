import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { DataPaths } from '../../core/config/paths';
import { OperatorService } from '../../core/operators/operator-service';
import { SqliteOperatorRepository } from '../../core/store/operators-repository';
import { openDatabase } from '../../core/store/database';
import { REPO_ROOT, TestServer } from '../helpers/server';

/**
 * Every route of the OpenAPI document, called with no credentials, an expired token, a revoked
 * token, a viewer's and an admin's, over real HTTP against a running server. The table of routes
 * is explicit: a route added without a row here fails the first test.
 */

type Access = 'public' | 'viewer' | 'admin';
const ROUTES: Record<string, Access> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'viewer',
  'POST /api/v1/login': 'public',
  'POST /api/v1/logout': 'viewer',
  'GET /api/v1/me': 'viewer',
  'GET /api/v1/accounts': 'viewer',
  'POST /api/v1/accounts': 'admin',
  'POST /api/v1/accounts/import': 'admin',
  'GET /api/v1/accounts/export': 'viewer',
  'PUT /api/v1/accounts/{id}/pgp': 'admin',
  'GET /api/v1/jobs/tombstones': 'viewer',
  'GET /api/v1/pgp': 'viewer',
  'POST /api/v1/pgp/publish': 'admin',
  'GET /api/v1/accounts/{id}': 'viewer',
  'PATCH /api/v1/accounts/{id}': 'admin',
  'DELETE /api/v1/accounts/{id}': 'admin',
  'POST /api/v1/accounts/{id}/disable': 'admin',
  'POST /api/v1/accounts/{id}/enable': 'admin',
  'GET /api/v1/accounts/{id}/keys': 'viewer',
  'POST /api/v1/accounts/{id}/keys': 'admin',
  'DELETE /api/v1/accounts/{id}/keys/{fingerprint}': 'admin',
  'GET /api/v1/accounts/{id}/directory/{kind}': 'viewer',
  'GET /api/v1/files': 'viewer',
  'GET /api/v1/files/{id}': 'viewer',
  'GET /api/v1/files/{id}/{kind}': 'viewer',
  'POST /api/v1/files/{id}/replay': 'admin',
  'GET /api/v1/workflows': 'viewer',
  'GET /api/v1/workflows/{name}': 'viewer',
  'POST /api/v1/workflows/{name}/validate': 'viewer',
  'PUT /api/v1/workflows/{name}': 'admin',
  'GET /api/v1/jobs': 'viewer',
  'GET /api/v1/jobs/{job}/runs': 'viewer',
  'POST /api/v1/jobs/{job}/run': 'admin',
  'GET /api/v1/hostkeys': 'viewer',
  'GET /api/v1/pgp/public-key': 'viewer',
  'GET /api/v1/audit': 'viewer',
  'GET /api/v1/events': 'viewer',
  'GET /api/v1/deliveries': 'viewer',
  'POST /api/v1/deliveries/{id}/retry': 'admin',
  'GET /api/v1/expectations': 'viewer',
  'POST /api/v1/expectations/{name}/ack': 'admin',
};

const PARAMS: Record<string, string> = { id: 'nosuch', fingerprint: encodeURIComponent('SHA256:nosuch'), kind: 'employees', job: 'retention', name: 'sir' };
const fill = (path: string): string => path.replace(/\{(\w+)\}/g, (_m, p: string) => (path.startsWith('/api/v1/files') && p === 'kind' ? 'input' : PARAMS[p]));

describe('HTTP API: authentication and roles on every route', () => {
  let server: TestServer;
  let doc: { paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>> };
  const tokens: Record<string, string> = {};

  before(async () => {
    // Bad tokens count as failed logins: this table sends dozens on purpose.
    // Its workflows are a copy: an admin's PUT must never reach the repository's.
    const dir = new TestServer().dir;
    cpSync(join(REPO_ROOT, 'workflows'), join(dir, 'workflows'), { recursive: true });
    server = await new TestServer({ config: { http: { loginLimit: { maxFailures: 1000 } }, workflowsDir: join(dir, 'workflows') } }).start();
    const create = async (name: string, role: string): Promise<string> => {
      const r = await server.cli('token', 'create', '--name', name, '--role', role, '--json');
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { token: string }).token;
    };
    tokens.admin = await create('admin-bot', 'admin');
    tokens.viewer = await create('viewer-bot', 'viewer');
    tokens.revoked = await create('revoked-bot', 'admin');
    assert.equal((await server.cli('token', 'revoke', 'revoked-bot')).code, 0);
    // An admin token that expired yesterday: made as `token create --expires-days 1` would, two days ago.
    const db = openDatabase(new DataPaths(server.dataDir).database);
    try {
      tokens.expired = (await new OperatorService(new SqliteOperatorRepository(db)).createToken('expired-bot', 'admin', 1, Date.now() - 2 * 86_400_000)).token;
    } finally {
      db.close();
    }
    doc = await (await fetch(`${server.httpUrl}/api/v1/openapi.json`)).json() as typeof doc;
  });
  after(async () => { await server?.cleanup(); });

  test('the OpenAPI document is valid OpenAPI 3.1, lists exactly the routes of the table, and documents 401 on every non-public one', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    assert.deepEqual(listed, Object.keys(ROUTES).sort());
    for (const [route, access] of Object.entries(ROUTES)) {
      const [method, path] = route.split(' ') as [string, string];
      const op = doc.paths[path][method.toLowerCase()];
      if (access !== 'public') assert.ok(op.responses['401'], `${route} documents its 401`);
      else assert.deepEqual(op.security, [], `${route} is documented as needing no token`);
    }
  });

  for (const who of ['none', 'expired', 'revoked', 'viewer', 'admin'] as const) {
    test(`every route called with ${who === 'none' ? 'no credentials' : `a${who === 'admin' || who === 'expired' ? 'n' : ''} ${who} token`}`, async () => {
      const seen: string[] = [];
      for (const [route, access] of Object.entries(ROUTES)) {
        const [method, path] = route.split(' ') as [string, string];
        // Logging out would revoke the token the rest of the table uses (tested in http-api).
        if (route === 'POST /api/v1/logout' && (who === 'viewer' || who === 'admin')) continue;
        const headers: Record<string, string> = who === 'none' ? {} : { authorization: `Bearer ${tokens[who]}` };
        const hasBody = method !== 'GET' && method !== 'DELETE';
        if (hasBody) headers['content-type'] = 'application/json';
        // A harmless body: a dry run for jobs, and refused (400) by every other route's schema.
        const res = await fetch(`${server.httpUrl}${fill(path)}`, { method, headers, body: hasBody ? JSON.stringify({ dryRun: true }) : undefined });
        const text = await res.text();
        const code = res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined;
        const expected = access === 'public' ? 'answered'
          : who === 'none' || who === 'expired' || who === 'revoked' ? 'unauthenticated'
            : who === 'viewer' && access === 'admin' ? 'forbidden' : 'answered';
        if (expected === 'unauthenticated') assert.deepEqual([route, res.status, code], [route, 401, 'FG_UNAUTHENTICATED'], text);
        else if (expected === 'forbidden') assert.deepEqual([route, res.status, code], [route, 403, 'FG_FORBIDDEN'], text);
        else assert.ok(res.status !== 401 && res.status !== 403 && res.status < 500, `${who} ${route}: ${res.status} ${text}`);
        // Nothing secret in any answer.
        assert.doesNotMatch(text, /scrypt\$|PRIVATE KEY/, `${route} answered with a secret`);
        seen.push(route);
      }
      assert.ok(seen.length >= Object.keys(ROUTES).length - 1);
    });
  }

  test('errors are JSON with a code: unknown route 404, bad body 400, both with a message', async () => {
    const auth = { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' };
    const missing = await fetch(`${server.httpUrl}/api/v1/nothing-here`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'FG_NOT_FOUND');
    const bad = await fetch(`${server.httpUrl}/api/v1/accounts`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'acme', keys: 'not a list' }) });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'FG_BAD_REQUEST');
    assert.match(body.error.message, /body keys: .*array/i);
    const notJson = await fetch(`${server.httpUrl}/api/v1/accounts`, { method: 'POST', headers: auth, body: '{"id": ' });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { error: { code: string } }).error.code, 'FG_BAD_REQUEST');
  });
});
