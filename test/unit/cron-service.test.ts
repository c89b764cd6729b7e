import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../core/config/load';
import { DataPaths } from '../../core/config/paths';
import { buildJobs } from '../../core/composition/jobs';
import { CronService } from '../../core/cron/service';
import { nextRun } from '../../core/cron/schedule';
import { parseAsOf } from '../../core/cron/as-of';
import { silentLogger } from '../../core/logging/logger';
import { openDatabase, type Database } from '../../core/store/database';
import { SqliteStore } from '../../core/store/sqlite-store';
import type { CronRun } from '../../core/store/ports/jobs';
import { until } from '../helpers/wait';

/** The scheduler itself, in-process on a real database: node-cron fires, runs are recorded. */
describe('cron service (node-cron 4)', () => {
  let dir: string;
  let db: Database;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fg-cron-'));
    db = openDatabase(join(dir, 'fluxgate.db'));
  });
  after(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });

  test('a job scheduled every second runs, is recorded with its outcome, and only enabled jobs are scheduled', async () => {
    const config = parseConfig({
      jobs: {
        timezone: 'Europe/Paris',
        keyExpiry: { schedule: '* * * * * *' },
        retention: { enabled: false },
        accountInactivity: { schedule: '0 0 1 1 *' },
      },
    });
    const jobs = buildJobs({ config, paths: new DataPaths(dir), store: new SqliteStore(db), logger: silentLogger() });
    const service = new CronService(config, jobs.registry, jobs.runner, jobs.runs, silentLogger());
    await service.start();
    try {
      // Wait for the scheduler's own tick (at most a second), not for a fixed time.
      let run: CronRun | undefined;
      await until('key-expiry ran', async () => (run = await jobs.runs.lastRun('key-expiry')) !== undefined && run.outcome !== 'running');
      assert.ok(run);
      assert.equal(run.outcome, 'ok');
      assert.equal(run.dryRun, false);
      assert.notEqual(run.endedAt, null);
      assert.equal(await jobs.runs.lastRun('retention'), undefined);
    } finally {
      await service.stop();
    }
    assert.equal((db.prepare('SELECT count(*) AS n FROM cron_locks').get() as { n: number }).n, 0, 'no lock left behind');
  });

  test('a run left `running` by a dead process is marked interrupted when the service starts', async () => {
    const id = Number(db.prepare(`INSERT INTO cron_runs (job, started_at, outcome, as_of) VALUES ('retention', 1, 'running', 1)`).run().lastInsertRowid);
    db.prepare(`INSERT INTO cron_locks (job, run_id, pid, host, acquired_at) VALUES ('retention', ?, 2147483646, ?, 1)`).run(id, (await import('node:os')).hostname());
    const config = parseConfig({ jobs: { retention: { enabled: false }, keyExpiry: { enabled: false }, accountInactivity: { enabled: false } } });
    const jobs = buildJobs({ config, paths: new DataPaths(dir), store: new SqliteStore(db), logger: silentLogger() });
    const service = new CronService(config, jobs.registry, jobs.runner, jobs.runs, silentLogger());
    await service.start();
    await service.stop();
    assert.equal((await jobs.runs.get(id))!.outcome, 'interrupted');
  });

  test('schedules and timezones are validated; next run honours the timezone', () => {
    assert.throws(() => nextRun('retention', 'every day', 'UTC'), /not a valid cron expression/);
    assert.throws(() => nextRun('retention', '15 2 * * *', 'Mars/Olympus'), /not a known IANA timezone/);
    const paris = nextRun('retention', '15 2 * * *', 'Europe/Paris')!;
    const utc = nextRun('retention', '15 2 * * *', 'UTC')!;
    assert.equal(utc.getUTCHours(), 2);
    assert.equal(utc.getUTCMinutes(), 15);
    // 02:15 in Paris is 01:15 or 00:15 UTC depending on the season.
    assert.ok([0, 1].includes(paris.getUTCHours()), paris.toISOString());
  });

  test('the config file is refused at load when a schedule or the timezone is wrong', () => {
    assert.throws(() => parseConfig({ jobs: { keyExpiry: { schedule: '61 * * * *' } } }), /jobs\.keyExpiry\.schedule: not a valid cron expression/);
    assert.throws(() => parseConfig({ jobs: { timezone: 'Paris' } }), /jobs\.timezone: not a known IANA timezone/);
    assert.equal(parseConfig({ jobs: { timezone: 'Europe/Paris' } }).jobs.retention.schedule, '15 2 * * *');
  });

  test('--at accepts ISO dates and day offsets, and nothing else', () => {
    assert.equal(parseAsOf('2027-01-05T10:00:00Z'), Date.UTC(2027, 0, 5, 10));
    assert.equal(parseAsOf('2027-01-05'), Date.UTC(2027, 0, 5));
    assert.equal(parseAsOf('+46d', 1000), 1000 + 46 * 86_400_000);
    assert.equal(parseAsOf('-3d', 0), -3 * 86_400_000);
    assert.throws(() => parseAsOf('tomorrow'), /not an ISO date/);
    assert.throws(() => parseAsOf('2027-13-45'), /not an ISO date/);
    assert.throws(() => parseAsOf('2027-02-30'), /not a day of the calendar/, 'Date.parse would roll it over to March 2');
    assert.throws(() => parseAsOf('2027-02-29T10:00:00Z'), /not a day of the calendar/);
    assert.equal(parseAsOf('2028-02-29'), Date.UTC(2028, 1, 29));
  });
});
