import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { Ban } from '../../core/store/ports/bans';
import { bothEngines } from '../helpers/postgres-contract';

// BanRepository as the Store carries it (store.bans), on SQLite and on PostgreSQL: a ban one
// node records is active for every node, the later end wins, lifting and purging.
const ban = (address: string, until: number, over: Partial<Ban> = {}): Ban => ({ address, bannedAt: 1_000, until, user: 'root', nodeId: 'sftp-a', ...over });

describe('store contract: bans', () => {
  bothEngines('recorded by one node, active for another; the later end wins; lifted; purged', async (e) => {
    const node2 = await e.another();
    await e.store.bans.ban(ban('192.0.2.1', 5_000));
    await e.store.bans.ban(ban('192.0.2.2', 2_000, { user: '', nodeId: null }));
    assert.deepEqual(await node2.bans.active(1_500), [ban('192.0.2.1', 5_000), ban('192.0.2.2', 2_000, { user: '', nodeId: null })]);
    await node2.bans.ban(ban('192.0.2.1', 3_000, { nodeId: 'sftp-b' })); // ends sooner: the longer stays
    await node2.bans.ban(ban('192.0.2.2', 9_000, { nodeId: 'sftp-b', bannedAt: 1_900 }));
    assert.deepEqual(await e.store.bans.active(2_500), [ban('192.0.2.1', 5_000), ban('192.0.2.2', 9_000, { nodeId: 'sftp-b', bannedAt: 1_900 })]);
    assert.deepEqual(await e.store.bans.active(6_000), [ban('192.0.2.2', 9_000, { nodeId: 'sftp-b', bannedAt: 1_900 })]);
    assert.deepEqual(await node2.bans.lift('192.0.2.2', 6_000), ban('192.0.2.2', 9_000, { nodeId: 'sftp-b', bannedAt: 1_900 }));
    assert.equal(await node2.bans.lift('192.0.2.2', 6_000), undefined, 'nothing left to lift');
    assert.equal(await e.store.bans.purgeEnded(5_500), 1);
    assert.deepEqual(await e.store.bans.active(0), []);
  });
});
