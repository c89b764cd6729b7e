import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { FluxgateError } from '../../core/errors';
import { silentLogger } from '../../core/logging/logger';
import { PgPool, withTransaction } from '../../core/store/postgres/pool';
import { PostgresStore } from '../../core/store/postgres/postgres-store';
import { freshDatabase, type TestDatabase } from '../helpers/postgres';
import { skipUnless } from '../helpers/tools';
import { PG_MIGRATIONS } from '../../core/store/postgres/migrations';

// PostgresStore.open and the pool's units of work on a real PostgreSQL: coded errors before
// anything is served, the statement timeout, rollback, and the retry of a serialization failure.
const skip = skipUnless('postgres');
const code = (c: string) => (err: unknown): boolean => (err as FluxgateError).code === c;
let db: TestDatabase;

before(async () => { if (!skip) db = await freshDatabase(); });
after(async () => { await db?.drop(); });

describe('PostgresStore and its pool', { skip }, () => {
  test('open migrates an empty database and serves it; a second open finds it migrated', async () => {
    const store = await PostgresStore.open(db.url, silentLogger());
    try {
      assert.equal(await store.operations.ping(), true);
      const [{ version }] = await db.query<{ version: number }>('SELECT max(version) AS version FROM schema_migrations');
      assert.equal(version, PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version, 'every migration applied');
      const again = await PostgresStore.open(db.url, silentLogger());
      await again.close();
      await again.close(); // closing twice is harmless
    } finally {
      await store.close();
    }
  });

  test('the directory\'s key columns compare bytewise ("C", as SQLite\'s BINARY); e-mail keeps the database\'s collation', async () => {
    const store = await PostgresStore.open(db.url, silentLogger());
    await store.close();
    const rows = await db.query<{ column: string; collation: string | null }>(`SELECT table_name || '.' || column_name AS column, collation_name AS collation
      FROM information_schema.columns WHERE table_schema = current_schema() AND table_name LIKE 'dir\\_%' AND data_type = 'text'`);
    const collation = new Map(rows.map((r) => [r.column, r.collation]));
    for (const key of ['dir_employees.account_id', 'dir_employees.organization_code', 'dir_employees.registration_reference',
      'dir_employees.technical_id', 'dir_employee_versions.file_id', 'dir_organizations.code', 'dir_users.login', 'dir_documents.external_reference']) {
      assert.equal(collation.get(key), 'C', key);
    }
    assert.notEqual(collation.get('dir_employees.email'), 'C', 'lower(email) must fold more than ASCII');
  });

  test('open fails with the store\'s codes, naming the server without its password', async () => {
    const password = new URL(db.url).password;
    await assert.rejects(PostgresStore.open(db.urlOf('fg_no_such_database'), silentLogger()), (err: Error) => code('FG_STORE_NO_DATABASE')(err) && !err.message.includes(password));
    const wrong = new URL(db.url);
    wrong.password = 'not-the-password';
    await assert.rejects(PostgresStore.open(wrong.toString(), silentLogger()), code('FG_STORE_AUTH'));
    const closed = new URL(db.url);
    closed.port = '1';
    await assert.rejects(PostgresStore.open(closed.toString(), silentLogger()), code('FG_STORE_UNREACHABLE'));
  });

  test('a statement longer than the timeout is cancelled: FG_STORE, saying so', async () => {
    const pool = new PgPool(db.url, { statementTimeoutMs: 200, size: 2 });
    try {
      await assert.rejects(pool.rows('SELECT pg_sleep(2)'), (err: Error) => code('FG_STORE')(err) && /statement timeout/.test(err.message));
      assert.deepEqual(await pool.rows('SELECT 1 AS ok'), [{ ok: 1 }], 'the pool serves on');
    } finally {
      await pool.end();
    }
  });

  test('a unit of work: all or nothing, and run again after a serialization failure', async () => {
    const pool = new PgPool(db.url);
    try {
      await pool.run('CREATE TABLE IF NOT EXISTS t_units (n INTEGER)');
      await assert.rejects(withTransaction(pool, async (tx) => {
        await tx.run('INSERT INTO t_units VALUES (1)');
        throw new Error('halfway');
      }), /halfway/);
      assert.deepEqual(await pool.rows('SELECT n FROM t_units'), [], 'rolled back');

      let attempts = 0;
      const result = await withTransaction(pool, async (tx) => {
        attempts++;
        await tx.run('INSERT INTO t_units VALUES ($1)', [attempts]);
        if (attempts === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
        return 'done';
      });
      assert.deepEqual([result, attempts], ['done', 2]);
      assert.deepEqual(await pool.rows('SELECT n FROM t_units'), [{ n: 2 }], 'the failed attempt left nothing');
      // Two transactions that really conflict under SERIALIZABLE: both end committed, one of them retried.
      await pool.run('CREATE TABLE IF NOT EXISTS t_counter (id INTEGER PRIMARY KEY, n INTEGER)');
      await pool.run('INSERT INTO t_counter VALUES (1, 0)');
      let tries = 0;
      // Both first attempts read before either writes (a barrier); a retry does not wait.
      let reads = 0;
      let bothRead!: () => void;
      const barrier = new Promise<void>((resolve) => { bothRead = resolve; });
      const bump = () => withTransaction(pool, async (tx) => {
        const first = ++tries <= 2;
        await tx.run('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
        const [{ n }] = await tx.rows<{ n: number }>('SELECT n FROM t_counter WHERE id = 1');
        if (first && ++reads === 2) bothRead();
        if (first) await barrier;
        await tx.run('UPDATE t_counter SET n = $1 WHERE id = 1', [n + 1]);
      });
      await Promise.all([bump(), bump()]);
      assert.deepEqual(await pool.rows('SELECT n FROM t_counter'), [{ n: 2 }]);
      assert.ok(tries >= 3, `one of them ran again (${tries} tries)`);
    } finally {
      await pool.end();
    }
  });
});
