import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/logging/logger';
import { SharedBans } from '../../core/sftp/shared-bans';
import { SqliteBanRepository } from '../../core/store/bans-repository';
import { openDatabase, type Database } from '../../core/store/database';
import type { Ban, BanRepository } from '../../core/store/ports/bans';
import { PostgresBanRepository } from '../../core/store/postgres/bans-repository';
import { migratePostgres } from '../../core/store/postgres/migrate';
import { PgPool } from '../../core/store/postgres/pool';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { skipUnless } from '../helpers/tools';

/*
 * The ban port's contract, on both engines. Each engine gets two repositories on two connections
 * to one store: two nodes. What one bans, the other sees; what one lifts, the other no longer sees.
 */
interface Engine { name: string; skip: string | false; open: () => Promise<{ nodes: [BanRepository, BanRepository]; close: () => Promise<void> }> }

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const ENGINES: Engine[] = [
  {
    name: 'SQLite (one file, two connections)',
    skip: false,
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'fg-bans-'));
      dirs.push(dir);
      const file = join(dir, 'fluxgate.db');
      const dbs: Database[] = [openDatabase(file), openDatabase(file)];
      const close = (): Promise<void> => { for (const db of dbs) db.close(); return Promise.resolve(); };
      return Promise.resolve({ nodes: [new SqliteBanRepository(dbs[0]), new SqliteBanRepository(dbs[1])], close });
    },
  },
  {
    name: 'PostgreSQL (one database, two pools)',
    skip: skipUnless('postgres'),
    open: async () => {
      const pg: TestDatabase = await freshDatabase();
      const pools = [new PgPool(pg.url, { size: 2 }), new PgPool(pg.url, { size: 2 })];
      // pool.end() resolves before its connections have closed: the DROP … WITH (FORCE) after it may
      // terminate one still closing, whose error would otherwise surface in the next test.
      for (const pool of pools) pool.pool.on('connect', (client) => client.on('error', () => {}));
      const client = await pools[0].connect();
      try { await migratePostgres(client); } finally { client.release(); }
      return {
        nodes: [new PostgresBanRepository(pools[0]), new PostgresBanRepository(pools[1])],
        close: async () => { for (const p of pools) await p.end(); await pg.drop(); },
      };
    },
  },
];

const T0 = 1_800_000_000_000;
const ban = (address: string, until: number, extra: Partial<Ban> = {}): Ban => ({ address, bannedAt: T0, until, user: 'acme', nodeId: 'node-a', ...extra });

for (const engine of ENGINES) {
  describe(`ban repository: ${engine.name}`, { skip: engine.skip }, () => {
    test('a ban made by one node is seen by the other; a lift by one ends it for both', async () => {
      const { nodes: [a, b], close } = await engine.open();
      try {
        await a.ban(ban('203.0.113.7', T0 + 600_000));
        await a.ban(ban('2001:db8::7', T0 + 600_000, { user: '', nodeId: null }));
        assert.deepEqual(await b.active(T0), [
          ban('2001:db8::7', T0 + 600_000, { user: '', nodeId: null }),
          ban('203.0.113.7', T0 + 600_000),
        ]);
        const lifted = await b.lift('203.0.113.7', T0 + 1000);
        assert.deepEqual(lifted, ban('203.0.113.7', T0 + 600_000));
        assert.deepEqual((await a.active(T0 + 1000)).map((x) => x.address), ['2001:db8::7']);
        assert.equal(await a.lift('203.0.113.7', T0 + 1000), undefined, 'lifted already');
      } finally {
        await close();
      }
    });

    test('two bans of one address: the one that ends later holds, whoever wrote last', async () => {
      const { nodes: [a, b], close } = await engine.open();
      try {
        await a.ban(ban('198.51.100.1', T0 + 600_000, { user: 'first', nodeId: 'node-a' }));
        await b.ban(ban('198.51.100.1', T0 + 300_000, { user: 'second', nodeId: 'node-b' }));
        assert.deepEqual(await a.active(T0), [ban('198.51.100.1', T0 + 600_000, { user: 'first', nodeId: 'node-a' })], 'a shorter ban does not shorten it');
        await b.ban(ban('198.51.100.1', T0 + 900_000, { bannedAt: T0 + 5, user: 'third', nodeId: 'node-b' }));
        assert.deepEqual(await a.active(T0), [ban('198.51.100.1', T0 + 900_000, { bannedAt: T0 + 5, user: 'third', nodeId: 'node-b' })]);
      } finally {
        await close();
      }
    });

    test('an ended ban is not active, cannot be lifted, and is purged; running ones stay', async () => {
      const { nodes: [a, b], close } = await engine.open();
      try {
        await a.ban(ban('192.0.2.1', T0 + 1000));
        await a.ban(ban('192.0.2.2', T0 + 5000));
        assert.deepEqual((await b.active(T0 + 1000)).map((x) => x.address), ['192.0.2.2'], 'ends at `until`');
        assert.equal(await b.lift('192.0.2.1', T0 + 2000), undefined, 'nothing to lift once it ended');
        await a.ban(ban('192.0.2.3', T0 + 1000));
        assert.equal(await b.purgeEnded(T0 + 2000), 1);
        assert.deepEqual((await a.active(T0)).map((x) => x.address), ['192.0.2.2']);
      } finally {
        await close();
      }
    });

    test('the SFTP server\'s copy (SharedBans): another node\'s ban and a lift reach it at its next refresh; its own ban holds at once', async () => {
      const { nodes: [a, b], close } = await engine.open();
      const log = silentLogger();
      // Refreshed by hand here (refresh()), as the timer does every BAN_REFRESH_MS in the server.
      const nodeA = new SharedBans(a, () => 'node-a', log, 3_600_000);
      const nodeB = new SharedBans(b, () => 'node-b', log, 3_600_000);
      try {
        await nodeA.start();
        await nodeB.start();
        const until = Date.now() + 600_000;
        nodeA.add('203.0.113.9', until, 'acme');
        // Its own ban holds here at once, and through a refresh that may read before the write lands.
        assert.equal(nodeA.until('203.0.113.9'), until);
        await nodeA.refresh();
        assert.equal(nodeA.until('203.0.113.9'), until);

        await nodeB.refresh();
        assert.equal(nodeB.until('203.0.113.9'), until, 'the other node sees it after its refresh');
        const [stored] = await b.active();
        assert.deepEqual([stored.address, stored.user, stored.nodeId], ['203.0.113.9', 'acme', 'node-a']);

        assert.ok(await b.lift('203.0.113.9'), 'lifted in the store (fluxgate bans remove)');
        await nodeA.refresh();
        await nodeB.refresh();
        assert.equal(nodeA.until('203.0.113.9'), undefined, 'the lift reaches the node that banned');
        assert.equal(nodeB.until('203.0.113.9'), undefined);
      } finally {
        await nodeA.stop();
        await nodeB.stop();
        await close();
      }
    });
  });
}

test('SharedBans on a store that stops answering: the bans known hold, and a new one holds on this node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bans-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'fluxgate.db'));
  const node = new SharedBans(new SqliteBanRepository(db), () => 'node-a', silentLogger(), 3_600_000);
  await node.start();
  const until = Date.now() + 600_000;
  node.add('192.0.2.10', until, 'acme');
  await node.refresh();
  db.close(); // every read and write now throws
  await node.refresh();
  assert.equal(node.until('192.0.2.10'), until, 'a failed read keeps the copy');
  node.add('192.0.2.11', until, 'acme');
  await node.refresh();
  assert.equal(node.until('192.0.2.11'), until, 'a ban whose write failed holds on this node');
  await node.stop();
});
