import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { NewAccountEntry, NewAccountKey } from '../../core/store/ports/accounts';
import { bothEngines } from '../helpers/postgres-contract';

// AccountRepository through its interface, on SQLite and on PostgreSQL, and what a cluster needs
// of it: a change made through any store (another process, another node) moves the change stamp
// every store reads, and two creators of one id make one account.
const key = (accountId: string, n: number, expiresAt = 90_000): NewAccountKey => ({
  accountId, type: 'ssh-ed25519', bits: 256, fingerprint: `SHA256:${accountId}-${n}`, publicKey: `ssh-ed25519 AAAA${n} c${n}`,
  comment: `c${n}`, addedAt: 1_000 + n, expiresAt,
});
const entry = (id: string, keys = 0, extra: Partial<NewAccountEntry> = {}): NewAccountEntry => ({
  account: { id, profile: 'exchange', partner: null, allowIps: [], options: {}, createdAt: 1_000 },
  keys: Array.from({ length: keys }, (_, i) => key(id, i + 1)), ...extra,
});

describe('store contract: accounts and keys', () => {
  bothEngines('insertAccounts: accounts with their keys, disabled ones with their event, an existing id skipped', async ({ store }) => {
    const { accounts } = store;
    const made = await accounts.insertAccounts([
      { ...entry('acme', 2), account: { id: 'acme', profile: 'exchange', partner: 'ukg', allowIps: ['10.0.0.0/8'], options: { requireEncryption: true }, createdAt: 1_000 } },
      { ...entry('drop'), account: { id: 'drop', profile: 'dropbox', partner: null, allowIps: [], options: { deactivateMissing: true }, createdAt: 2_000 }, disabledReason: 'imported disabled' },
    ], 5_000);
    assert.deepEqual(made[0]!.account, {
      id: 'acme', profile: 'exchange', partner: 'ukg', enabled: true, disabledReason: null, disabledAt: null, allowIps: ['10.0.0.0/8'],
      passwordHash: null, options: { requireEncryption: true }, createdAt: 1_000, lastLoginAt: null, purgedAt: null,
    });
    assert.deepEqual(made[0]!.keys.map((k) => [k.accountId, k.fingerprint, k.comment, k.addedAt, k.expiresAt, k.expiredAt, k.warnedAt]),
      [['acme', 'SHA256:acme-1', 'c1', 1_001, 90_000, null, null], ['acme', 'SHA256:acme-2', 'c2', 1_002, 90_000, null, null]]);
    assert.deepEqual([made[1]!.account.enabled, made[1]!.account.disabledReason, made[1]!.account.disabledAt], [false, 'imported disabled', 5_000]);
    const disabled = await store.events.list({ type: 'account.disabled' });
    assert.deepEqual(disabled.map((e) => [e.event.account, e.event.data.reason, e.at]), [['drop', 'imported disabled', 5_000]]);

    const again = await accounts.insertAccounts([entry('acme', 1), entry('new')]);
    assert.equal(again[0], undefined, 'an existing id is skipped');
    assert.equal(again[1]!.account.id, 'new');
    assert.equal((await accounts.keys('acme')).length, 2, 'and its keys are not touched');
    assert.deepEqual((await accounts.list()).map((a) => a.id), ['acme', 'drop', 'new']);
  });

  bothEngines('reads: get, pages after an id, live count, any password; updates and logins', async ({ store }) => {
    const { accounts } = store;
    await accounts.insertAccounts(['a1', 'a2', 'a3', 'a4'].map((id) => entry(id)));
    assert.equal(await accounts.get('zz'), undefined);
    assert.equal(await accounts.update('a3', { purgedAt: 9_000 }), true);
    assert.deepEqual(await accounts.pageAfter('', 2), [{ id: 'a1', profile: 'exchange' }, { id: 'a2', profile: 'exchange' }]);
    assert.deepEqual(await accounts.pageAfter('a2', 2), [{ id: 'a4', profile: 'exchange' }], 'purged accounts are not in the pages');
    assert.equal(await accounts.countLive(), 3);

    assert.equal(await accounts.anyPassword(), false);
    assert.equal(await accounts.update('a1', { passwordHash: '$scrypt$x', allowIps: ['192.0.2.1'], options: { deactivateMissing: true }, partner: 'p' }), true);
    assert.equal(await accounts.update('zz', { partner: 'p' }), false);
    assert.equal(await accounts.update('a1', {}), false, 'an empty patch changes nothing');
    assert.equal(await accounts.anyPassword(), true);
    await accounts.recordLogin('a1', 7_000);
    const a1 = (await accounts.get('a1'))!;
    assert.deepEqual([a1.passwordHash, a1.allowIps, a1.options, a1.partner, a1.lastLoginAt], ['$scrypt$x', ['192.0.2.1'], { deactivateMissing: true }, 'p', 7_000]);
    assert.equal(await accounts.update('a1', { passwordHash: null }), true);
    assert.equal(await accounts.anyPassword(), false);
  });

  bothEngines('setEnabled: account.disabled once per disabling of an enabled account', async ({ store }) => {
    const { accounts } = store;
    await accounts.insertAccounts([entry('acme')]);
    assert.equal(await accounts.setEnabled('acme', false, 'by hand', 2_000), true);
    assert.equal(await accounts.setEnabled('acme', false, 'again', 3_000), true);
    const a = (await accounts.get('acme'))!;
    assert.deepEqual([a.enabled, a.disabledReason, a.disabledAt], [false, 'again', 3_000]);
    assert.equal(await accounts.setEnabled('acme', true), true);
    const b = (await accounts.get('acme'))!;
    assert.deepEqual([b.enabled, b.disabledReason, b.disabledAt], [true, null, null]);
    assert.equal(await accounts.setEnabled('nobody', false, 'x'), false);
    const events = await store.events.list({ type: 'account.disabled' });
    assert.deepEqual(events.map((e) => [e.event.account, e.event.summary, e.at]), [['acme', 'account acme disabled: by hand', 2_000]]);
  });

  bothEngines('keys: add, find, list in order, remove; expire and warn with their events', async ({ store }) => {
    const { accounts } = store;
    await accounts.insertAccounts([entry('b'), entry('a')]);
    const k2 = await accounts.addKey(key('a', 2));
    const k1 = await accounts.addKey(key('a', 1));
    await accounts.addKey(key('b', 1));
    await assert.rejects(accounts.addKey(key('a', 1)), /UNIQUE|unique|duplicate/, 'one fingerprint once per account');
    assert.deepEqual((await accounts.keys('a')).map((k) => k.id), [k1.id, k2.id], 'by the time they were added');
    assert.deepEqual((await accounts.allKeys()).map((k) => [k.accountId, k.fingerprint]), [['a', 'SHA256:a-2'], ['a', 'SHA256:a-1'], ['b', 'SHA256:b-1']]);
    assert.deepEqual(await accounts.findKey('a', 'SHA256:a-1'), k1);
    assert.equal(await accounts.findKey('b', 'SHA256:a-1'), undefined);

    await accounts.warnKey(k1.id, 5_000, { type: 'key.expiring', at: 5_000, account: 'a', data: { fingerprint: k1.fingerprint, daysLeft: 3 } });
    await accounts.expireKey(k1.id, 6_000, { type: 'key.expired', at: 6_000, account: 'a', data: { fingerprint: k1.fingerprint } });
    await accounts.expireKey(k1.id, 7_000, { type: 'key.expired', at: 7_000, account: 'a', data: { fingerprint: k1.fingerprint } });
    const expired = (await accounts.findKey('a', k1.fingerprint))!;
    assert.deepEqual([expired.warnedAt, expired.expiredAt], [5_000, 6_000], 'the first expiry stands');
    assert.deepEqual((await store.events.list({ type: 'key.*' })).map((e) => [e.event.type, e.at]), [['key.expiring', 5_000], ['key.expired', 6_000], ['key.expired', 7_000]]);

    assert.equal(await accounts.removeKey('a', k1.fingerprint), true);
    assert.equal(await accounts.removeKey('a', k1.fingerprint), false);
    assert.deepEqual((await accounts.keys('a')).map((k) => k.id), [k2.id]);
  });

  bothEngines('purgeRows: keys, password and directory rows deleted, row kept disabled and purged, one event', async (e) => {
    const { accounts } = e.store;
    await accounts.insertAccounts([entry('acme', 2), entry('other')]);
    await accounts.update('acme', { passwordHash: 'h' });
    for (const id of ['acme', 'other']) {
      await e.sql('INSERT INTO dir_organizations (account_id, code, name, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [id, 'ORG', 'Org', '{}', 1, 1]);
      await e.sql(`INSERT INTO dir_users (account_id, login, email, lastname, firstname, profile_code, organization_codes, data, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [id, 'u1', 'u@x', 'L', 'F', 'P', '[]', '{}', 1, 1]);
    }
    for (const reg of ['1', '2']) {
      await e.sql(`INSERT INTO dir_employee_versions (account_id, file_id, organization_code, registration_reference, data, kept_at) VALUES (?, ?, ?, ?, ?, ?)`,
        ['acme', 'f1', 'ORG', reg, '{}', 1]);
    }
    const counts = { organizations: 1, employees: 0, users: 1, documents: 0, employeeVersions: 2 };
    assert.deepEqual(await accounts.directoryCounts('acme'), counts);
    assert.deepEqual(await accounts.directoryCounts('other'), { ...counts, employeeVersions: 0 });

    const deleted = await accounts.purgeRows('acme', 9_000, 'inactive for 400 days', (d) => ({ type: 'account.purged', at: 9_000, account: 'acme', data: { deleted: d } }));
    assert.deepEqual(deleted, counts);
    const acme = (await accounts.get('acme'))!;
    assert.deepEqual([acme.enabled, acme.disabledReason, acme.purgedAt, acme.passwordHash], [false, 'inactive for 400 days', 9_000, null]);
    assert.deepEqual(await accounts.keys('acme'), []);
    assert.deepEqual(await accounts.directoryCounts('acme'), { organizations: 0, employees: 0, users: 0, documents: 0, employeeVersions: 0 });
    assert.deepEqual(await accounts.directoryCounts('other'), { ...counts, employeeVersions: 0 }, 'other accounts untouched');
    const events = await e.store.events.list({ account: 'acme' });
    assert.deepEqual(events.map((x) => x.event.type), ['account.disabled', 'account.purged']);
    assert.deepEqual(events[1].event.data, { deleted: counts });
  });

  bothEngines('the change stamp moves when another store (process, node) changes an account or a key', async (e) => {
    const node2 = await e.another();
    await e.store.accounts.insertAccounts([entry('acme', 1)]);
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['disable', () => node2.accounts.setEnabled('acme', false, 'x')],
      ['enable', () => node2.accounts.setEnabled('acme', true)],
      ['allowlist', () => node2.accounts.update('acme', { allowIps: ['10.0.0.1'] })],
      ['add a key', () => node2.accounts.addKey(key('acme', 2))],
      ['remove a key', () => node2.accounts.removeKey('acme', 'SHA256:acme-1')],
      ['add an account', () => node2.accounts.insertAccounts([entry('beta')])],
      ['purge', () => node2.accounts.purgeRows('beta', 1, 'x', () => ({ type: 'account.purged', account: 'beta' }))],
    ];
    for (const [what, change] of steps) {
      const before = await e.store.accounts.changeStamp();
      assert.equal(await e.store.accounts.changeStamp(), before, `${what}: nothing changed, the stamp holds`);
      await change();
      const after = await e.store.accounts.changeStamp();
      assert.notEqual(after, before, `${what} on the other node moves this node's stamp`);
    }
  });

  bothEngines('two creators of one id at once: one account, the other is told it exists', async (e) => {
    const node2 = await e.another();
    const results = await Promise.all([
      e.store.accounts.insertAccounts([entry('same', 1)]),
      node2.accounts.insertAccounts([{ ...entry('same', 0), keys: [key('same', 9)] }]),
    ]);
    const made = results.map((r) => r[0]).filter((r) => r !== undefined);
    assert.equal(made.length, 1);
    assert.deepEqual((await e.store.accounts.keys('same')).map((k) => k.fingerprint), made[0].keys.map((k) => k.fingerprint), 'only the winner\'s keys');
  });

  bothEngines('PostgreSQL: a login (last_login_at alone) leaves the stamp: it revokes nothing, and logins are frequent', async (e) => {
    await e.store.accounts.insertAccounts([entry('acme', 1)]);
    const before = await e.store.accounts.changeStamp();
    await e.store.accounts.recordLogin('acme', 5_000);
    await e.store.accounts.update('acme', { lastLoginAt: 6_000 });
    assert.equal(await e.store.accounts.changeStamp(), before);
    await e.store.accounts.update('acme', { lastLoginAt: 7_000, partner: 'p' });
    assert.notEqual(await e.store.accounts.changeStamp(), before, 'with another column it moves');
  }, ['postgres']);
});
