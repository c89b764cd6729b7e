import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { TEST_STORE } from '../helpers/test-store';
import { DAY, JobsFixture, runJob } from './jobs-support';

/**
 * `fluxgate jobs run housekeeping` on a data directory whose working tables hold old rows (more
 * than one chunk of each): done queue jobs and finished events go, everything else stays, and
 * the run is recorded like the other jobs'. Either engine (test/postgres-suites.mjs).
 */
describe('housekeeping job (CLI)', () => {
  let fx: JobsFixture;
  const T = Date.now();
  const OLD_DONE = 1_500;
  const OLD_EVENTS = 1_200;
  let fileId = '';
  let fileEvent = '';

  const count = async (sql: string, ...params: unknown[]): Promise<number> => Number((await fx.query<{ n: number }>(sql, ...params))[0].n);
  const queueBy = async () => Object.fromEntries((await fx.query<{ state: string; n: number }>(
    'SELECT state, count(*) AS n FROM queue GROUP BY state ORDER BY state')).map((r) => [r.state, Number(r.n)]));

  /** `n` queue jobs in `state`, last updated `ageDays` before T. */
  const queueRows = (n: number, state: string, ageDays: number) => fx.query(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
    INSERT INTO queue (topic, payload, state, run_at, attempts, max_attempts, created_at, updated_at)
    SELECT 'file.process', '{}', CAST(? AS TEXT), CAST(? AS BIGINT), 1, 5, CAST(? AS BIGINT), CAST(? AS BIGINT) - i FROM k`,
  n, state, T - ageDays * DAY, T - ageDays * DAY, T - ageDays * DAY);

  /** `n` routed events `ageDays` old, each with one delivery in `state` (none when null). */
  const eventRows = async (prefix: string, n: number, ageDays: number, state: string | null) => {
    const at = T - ageDays * DAY;
    // (1 = 1): true on both engines (SQLite's routed is an integer, PostgreSQL's a boolean).
    await fx.query(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
      INSERT INTO events (id, type, at, account_id, routed) SELECT CAST(? AS TEXT) || CAST(i AS TEXT), 'file.processed', CAST(? AS BIGINT) - i, 'acme', (1 = 1) FROM k`, n, prefix, at);
    if (state === null) return;
    await fx.query(`INSERT INTO deliveries (event_id, subscription, channel, state, attempts, due_at, retry_from, created_at, updated_at)
      SELECT id, 'webhook:ops', 'webhook', CAST(? AS TEXT), 1, at, at, at, at FROM events WHERE id LIKE ?`, state, `${prefix}%`);
  };

  before(async () => {
    fx = new JobsFixture();
    await queueRows(OLD_DONE, 'done', 8);
    await queueRows(5, 'done', 6);
    await queueRows(3, 'dead', 100);
    await queueRows(2, 'ready', 100);
    await eventRows('evt_old_delivered_', OLD_EVENTS - 2, 91, 'delivered');
    await eventRows('evt_old_dead_', 1, 91, 'dead');
    await eventRows('evt_old_nobody_', 1, 91, null);
    await eventRows('evt_old_failed_', 2, 91, 'failed');
    await eventRows('evt_old_pending_', 1, 200, 'pending');
    await eventRows('evt_recent_', 3, 89, 'delivered');
    // The journal is the audit record: a file of 200 days ago, its timeline and its (unrouted) file.received event stay.
    const { journal } = (await fx.store()).store;
    const row = (await journal.insert({ accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/old.csv',
      name: 'old.csv', size: 3, sha1: 'x', sha256: 'y', location: '/nowhere/old.csv', receivedAt: T - 200 * DAY }))!;
    fileId = row.id;
    [{ id: fileEvent }] = await fx.query<{ id: string }>('SELECT id FROM events WHERE file_id = ?', fileId);
  });
  after(async () => { await fx.cleanup(); });

  test('jobs list shows it, scheduled daily at 03:00', async () => {
    const r = await fx.srv.cli('jobs', 'list', '--json');
    const housekeeping = (JSON.parse(r.stdout) as Array<{ job: string; schedule: string; enabled: boolean; description: string }>).find((j) => j.job === 'housekeeping');
    assert.deepEqual([housekeeping?.schedule, housekeeping?.enabled], ['0 3 * * *', true], r.stdout);
    assert.match(housekeeping!.description, /after 7 days.*after 90/);
  });

  test('a dry run counts what would go and deletes nothing', async () => {
    const queueBefore = await queueBy();
    const eventsBefore = await count('SELECT count(*) AS n FROM events');
    const dry = await runJob(fx.srv, 'housekeeping', '--dry-run');
    assert.equal(dry.outcome, 'ok', JSON.stringify(dry.errors));
    assert.deepEqual(dry.counts, { queueDeleted: OLD_DONE, eventsDeleted: OLD_EVENTS, deliveriesDeleted: OLD_EVENTS - 1, eventsKept: 3, 'delete-rows': 2 });
    assert.equal(dry.runId, null);
    assert.deepEqual(await queueBy(), queueBefore);
    assert.equal(await count('SELECT count(*) AS n FROM events'), eventsBefore);
  });

  test('a run deletes old done jobs and finished old events with their deliveries, in chunks, and is recorded', async () => {
    const run = await runJob(fx.srv, 'housekeeping');
    assert.equal(run.outcome, 'ok', JSON.stringify(run.errors));
    assert.deepEqual(run.counts, { queueDeleted: OLD_DONE, eventsDeleted: OLD_EVENTS, deliveriesDeleted: OLD_EVENTS - 1, eventsKept: 3, 'delete-rows': 2 });
    assert.deepEqual(run.actions.map((a) => [a.action, a.target, a.rule]), [['delete-rows', 'queue', 'queue-done'], ['delete-rows', 'events', 'event-age']]);

    assert.deepEqual(await queueBy(), { dead: 3, done: 5, ready: 2 }, 'dead jobs stay (an operator\'s), recent done and live ones too');
    const left = (await fx.query<{ id: string }>(`SELECT id FROM events WHERE id <> ? ORDER BY id`, fileEvent)).map((r) => r.id.replace(/\d+$/, ''));
    assert.deepEqual(left, ['evt_old_failed_', 'evt_old_failed_', 'evt_old_pending_', 'evt_recent_', 'evt_recent_', 'evt_recent_']);
    assert.deepEqual(Object.fromEntries((await fx.query<{ state: string; n: number }>('SELECT state, count(*) AS n FROM deliveries GROUP BY state'))
      .map((r) => [r.state, Number(r.n)])), { delivered: 3, failed: 2, pending: 1 }, 'the deliveries of the events kept');
    assert.equal(await count('SELECT count(*) AS n FROM files WHERE id = ?', fileId), 1, 'the journal stays');
    assert.equal(await count('SELECT count(*) AS n FROM file_events WHERE file_id = ?', fileId), 1, 'with its timeline');
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE id = ?', fileEvent), 1, 'an unrouted event stays whatever its age');

    const history = JSON.parse((await fx.srv.cli('jobs', 'history', 'housekeeping', '--json')).stdout) as Array<{ id: number; outcome: string; counts: Record<string, number> }>;
    assert.deepEqual(history.map((h) => [h.id, h.outcome, h.counts.queueDeleted, h.counts.eventsDeleted]), [[run.runId, 'ok', OLD_DONE, OLD_EVENTS]]);

    const again = await runJob(fx.srv, 'housekeeping');
    assert.deepEqual(again.counts, { queueDeleted: 0, eventsDeleted: 0, deliveriesDeleted: 0, eventsKept: 3 }, 'nothing more to delete');
  });

  test('--at moves the cut-offs: the jobs done 6 days ago go two days later, the events of 89 days ago too', async () => {
    const run = await runJob(fx.srv, 'housekeeping', '--at', new Date(T + 2 * DAY).toISOString());
    assert.deepEqual([run.counts.queueDeleted, run.counts.eventsDeleted, run.counts.deliveriesDeleted], [5, 3, 3]);
    assert.deepEqual(await queueBy(), { dead: 3, ready: 2 });
  });
});

describe('housekeeping job (CLI): a chunk the store refuses', () => {
  let fx: JobsFixture;
  const T = Date.now();

  before(async () => {
    fx = new JobsFixture();
    await fx.query(`INSERT INTO queue (topic, payload, state, run_at, attempts, max_attempts, created_at, updated_at)
      VALUES ('file.process', '{}', 'done', CAST(? AS BIGINT), 1, 5, CAST(? AS BIGINT), CAST(? AS BIGINT))`, T - 30 * DAY, T - 30 * DAY, T - 30 * DAY);
    await fx.query(`INSERT INTO events (id, type, at, account_id, routed) VALUES ('evt_old', 'file.processed', CAST(? AS BIGINT), 'acme', (1 = 1))`, T - 100 * DAY);
    await fx.query(`INSERT INTO deliveries (event_id, subscription, channel, state, attempts, due_at, retry_from, created_at, updated_at)
      VALUES ('evt_old', 'webhook:ops', 'webhook', 'delivered', 1, 0, 0, 0, 0)`);
    // A database that refuses to delete events (what a constraint, or a lock held past the timeout, does).
    if (TEST_STORE === 'sqlite') {
      await fx.query(`CREATE TRIGGER refuse_event_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are held by a test'); END`);
    } else {
      await fx.query(`CREATE FUNCTION refuse_event_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'events are held by a test'; END $$`);
      await fx.query('CREATE TRIGGER refuse_event_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION refuse_event_delete()');
    }
  });
  after(async () => { await fx.cleanup(); });

  test('the run fails with FG_HOUSEKEEPING naming the table and chunk, the chunk is rolled back whole, the other table is done', async () => {
    const run = await runJob(fx.srv, 'housekeeping');
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.outcome, 'failed');
    assert.deepEqual(run.errors.map((e) => [e.target, e.code]), [['events', 'FG_HOUSEKEEPING']]);
    assert.match(run.errors[0].message, /could not delete chunk 1 of old events rows \(.*events are held by a test.*\).*next run/);
    assert.equal(run.counts.queueDeleted, 1, 'the queue was done before');
    assert.equal(Number((await fx.query<{ n: number }>('SELECT count(*) AS n FROM queue'))[0].n), 0);
    assert.equal(Number((await fx.query<{ n: number }>('SELECT count(*) AS n FROM events'))[0].n), 1);
    assert.equal(Number((await fx.query<{ n: number }>('SELECT count(*) AS n FROM deliveries'))[0].n), 1, 'its deliveries were deleted in the same transaction: back too');
  });
});
