import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { configSchema } from '../../core/config/schema';
import { DEFAULT_STORE_POOL_SIZE } from '../../core/config/store-pool';
import { PgPool } from '../../core/store/postgres/pool';

// store.poolSize's default is written once (core/config/store-pool.ts): the configuration's and
// the pool's when it is given no size agree. No connection is made (a pool connects at its first query).
test('store.poolSize defaults to DEFAULT_STORE_POOL_SIZE, and so does a PgPool given no size', async () => {
  assert.equal(configSchema.parse({}).store.poolSize, DEFAULT_STORE_POOL_SIZE);
  const pool = new PgPool('postgres://fluxgate@127.0.0.1:1/fluxgate');
  try {
    assert.equal(pool.pool.options.max, DEFAULT_STORE_POOL_SIZE);
  } finally {
    await pool.end();
  }
  // A size given wins over the default.
  const sized = new PgPool('postgres://fluxgate@127.0.0.1:1/fluxgate', { size: 3 });
  try {
    assert.equal(sized.pool.options.max, 3);
  } finally {
    await sized.end();
  }
});
