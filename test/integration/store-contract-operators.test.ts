import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import { bothEngines } from '../helpers/postgres-contract';

// Operators, API tokens and the audit log through their interfaces, on SQLite and on PostgreSQL.
describe('store contract: operators, tokens, audit', () => {
  bothEngines('operators: insert, list, password, removal takes their sessions', async ({ store }) => {
    const ops = store.operators;
    const alice = await ops.insertOperator({ name: 'alice', role: 'admin', passwordHash: 'h1' }, 1_000);
    assert.deepEqual(alice, { name: 'alice', role: 'admin', passwordHash: 'h1', createdAt: 1_000, updatedAt: 1_000 });
    await ops.insertOperator({ name: 'bob', role: 'viewer', passwordHash: 'h2' }, 2_000);
    await assert.rejects(ops.insertOperator({ name: 'bob', role: 'viewer', passwordHash: 'h3' }, 3_000), /unique|UNIQUE|duplicate/, 'a name is unique');
    assert.deepEqual((await ops.listOperators()).map((o) => o.name), ['alice', 'bob']);
    await ops.setPassword('bob', 'h4', 5_000);
    assert.deepEqual(await ops.getOperator('bob'), { name: 'bob', role: 'viewer', passwordHash: 'h4', createdAt: 2_000, updatedAt: 5_000 });
    assert.equal(await ops.getOperator('carol'), undefined);

    await ops.insertToken({ id: 's1', kind: 'session', name: 'bob', role: 'viewer', operator: 'bob', hash: 'hs1', createdAt: 6_000, expiresAt: 9_000 });
    assert.equal(await ops.removeOperator('bob'), true);
    assert.equal(await ops.removeOperator('bob'), false);
    assert.equal(await ops.getToken('s1'), undefined, 'the session went with its operator');
  });

  bothEngines('tokens: by id, name or hash; revoke, touch; ended sessions dropped', async ({ store }) => {
    const ops = store.operators;
    await ops.insertOperator({ name: 'alice', role: 'admin', passwordHash: 'h' }, 1_000);
    const t = await ops.insertToken({ id: 't1', kind: 'token', name: 'ci', role: 'admin', operator: null, hash: 'hash1', createdAt: 1_000, expiresAt: null });
    assert.deepEqual(t, { id: 't1', kind: 'token', name: 'ci', role: 'admin', operator: null, createdAt: 1_000, expiresAt: null, revokedAt: null, lastUsedAt: null });
    await ops.insertToken({ id: 't0', kind: 'token', name: 'backup', role: 'viewer', operator: null, hash: 'hash0', createdAt: 1_000, expiresAt: 50_000 });
    await ops.insertToken({ id: 's1', kind: 'session', name: 'alice', role: 'admin', operator: 'alice', hash: 'hs1', createdAt: 2_000, expiresAt: 3_000 });
    await ops.insertToken({ id: 's2', kind: 'session', name: 'alice', role: 'admin', operator: 'alice', hash: 'hs2', createdAt: 2_000, expiresAt: 99_000 });
    await ops.insertToken({ id: 's3', kind: 'session', name: 'alice', role: 'admin', operator: 'alice', hash: 'hs3', createdAt: 2_000, expiresAt: 99_000 });

    assert.equal((await ops.findToken('ci'))?.id, 't1');
    assert.equal((await ops.findToken('t1'))?.id, 't1');
    assert.equal(await ops.findToken('s1'), undefined, 'findToken never gives a session');
    assert.equal((await ops.byHash('hs2'))?.id, 's2');
    assert.deepEqual((await ops.listTokens()).map((x) => x.id), ['t0', 't1'], 'tokens only, oldest first, then by id');

    await ops.touchToken('t1', 4_000);
    await ops.revokeToken('t1', 5_000);
    await ops.revokeToken('t1', 6_000); // the first revocation stands
    const revoked = (await ops.getToken('t1'))!;
    assert.deepEqual([revoked.lastUsedAt, revoked.revokedAt], [4_000, 5_000]);

    await ops.revokeToken('s3', 5_000);
    await ops.dropEndedSessions(10_000);
    assert.equal(await ops.getToken('s1'), undefined, 'expired');
    assert.equal(await ops.getToken('s3'), undefined, 'logged out');
    assert.equal((await ops.getToken('s2'))?.id, 's2', 'a live session stays');
    assert.equal((await ops.getToken('t1'))?.id, 't1', 'tokens are never dropped');
  });

  bothEngines('audit: newest first, paged by id, filtered by actor, detail kept as given', async ({ store }) => {
    for (let i = 1; i <= 5; i++) {
      await store.audit.record({ at: i * 1_000, actor: i % 2 ? 'cli:root' : 'token:ci', role: 'admin', action: `act ${i}`, target: i === 1 ? null : `account=a${i}`,
        address: i === 2 ? '10.0.0.1' : null, status: i === 3 ? 403 : null, code: i === 3 ? 'FG_FORBIDDEN' : null, detail: i === 4 ? { n: 4, list: ['x'] } : undefined });
    }
    const all = await store.audit.list();
    assert.deepEqual(all.map((a) => a.action), ['act 5', 'act 4', 'act 3', 'act 2', 'act 1']);
    assert.deepEqual(all[1].detail, { n: 4, list: ['x'] });
    assert.deepEqual(all[4].detail, {});
    const third = all[2];
    assert.deepEqual([third.at, third.actor, third.status, third.code, third.target, third.address], [3_000, 'cli:root', 403, 'FG_FORBIDDEN', 'account=a3', null]);
    const page1 = await store.audit.list({ limit: 2 });
    const page2 = await store.audit.list({ limit: 2, before: page1[1].id });
    assert.deepEqual([...page1, ...page2].map((a) => a.action), ['act 5', 'act 4', 'act 3', 'act 2']);
    assert.deepEqual((await store.audit.list({ actor: 'token:ci' })).map((a) => a.action), ['act 4', 'act 2']);
  });
});
