import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { PostgresNodeLock } from '../../core/store/postgres/node-lock';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { skipUnless } from '../helpers/tools';

// One `serve` per node id on PostgreSQL (core/store/postgres/node-lock.ts), on a real database:
// the lock is keyed by the id's 64-bit hash, so two ids whose 32-bit hashtext collide are two
// locks. The end-to-end refusal of a second `serve` is in test/e2e/serve-postgres.test.ts.
const skip = skipUnless('postgres');

describe('the node id lock on PostgreSQL', { skip }, () => {
  let db: TestDatabase;
  const held: PostgresNodeLock[] = [];
  before(async () => { db = await freshDatabase(); });
  after(async () => {
    for (const lock of held) await lock.release();
    await db?.drop();
  });

  const take = async (id: string): Promise<PostgresNodeLock> => {
    const lock = await PostgresNodeLock.acquire(db.url, id, silentLogger());
    held.push(lock);
    return lock;
  };

  test('two node ids whose 32-bit hashtext collide are both held', async () => {
    // Such pairs exist among a few hundred thousand ids: PostgreSQL finds one.
    const [pair] = await db.query<{ ids: string[] }>(`SELECT array_agg(s ORDER BY s) AS ids
      FROM (SELECT 'sftp-' || g AS s FROM generate_series(1, 400000) g) t GROUP BY hashtext(s) HAVING count(*) > 1 LIMIT 1`);
    assert.ok(pair, 'a pair of ids with one hashtext');
    const [a, b] = pair.ids;
    const [hashes] = await db.query<{ same32: boolean; same64: boolean }>(
      'SELECT hashtext($1) = hashtext($2) AS same32, hashtextextended($1, 0) = hashtextextended($2, 0) AS same64', [a, b]);
    assert.deepEqual(hashes, { same32: true, same64: false }, `${a} and ${b}`);
    await take(a);
    await take(b).catch((err: unknown) => assert.fail(`${b} refused while only ${a} is held: ${(err as Error).message}`));
  });

  test('the same id twice is refused (FG_NODE_ID_TAKEN) naming the session that holds it; free again once released', async () => {
    const first = await take('sftp-a');
    await assert.rejects(take('sftp-a'), (err: unknown) => {
      assert.ok(err instanceof FluxgateError);
      assert.equal(err.code, 'FG_NODE_ID_TAKEN');
      assert.match(err.message, /the node id "sftp-a" is in use by another fluxgate server on the store postgres:\/\/.* \(connected from 127\.0\.0\.1 since \d{4}-\d\d-\d\dT/);
      return true;
    });
    await first.release();
    await take('sftp-a');
  });
});
