import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/server';
import { DAY, isoAt, JobsFixture, runJob } from './jobs-support';

const FILES = 2000;

/**
 * A real crash: `jobs run retention` is SIGKILLed part way through a large deletion, then run
 * again. Wherever the kill lands, every deleted file has exactly one confirmed tombstone and
 * every tombstone's file is gone.
 */
describe('retention killed mid-run (SIGKILL) and rerun', () => {
  let fx: JobsFixture;
  const T = Date.now();
  const paths: string[] = [];

  before(async () => {
    fx = new JobsFixture();
    await (await fx.accountService()).create({ id: 'acme', now: T });
    const dir = join(fx.paths.accountRoot('acme'), 'out/bil');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < FILES; i++) {
      const p = join(dir, `invoice-${String(i).padStart(5, '0')}.pdf`);
      writeFileSync(p, `invoice ${i}`);
      paths.push(p);
    }
  });
  after(async () => { await fx.cleanup(); });

  const count = async (sql: string): Promise<number> => (await fx.query<{ n: number }>(sql))[0].n;

  test('no file deleted twice, no deletion without its tombstone', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/fluxgate.js'), '--config', fx.srv.configFile,
      'jobs', 'run', 'retention', '--at', isoAt(T + 100 * DAY)], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    // Kill it once deletions are under way (wherever the kill lands, the invariants must hold).
    for (;;) {
      if (await count(`SELECT count(*) AS n FROM tombstones`) >= 50 || child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const gone = paths.filter((p) => !existsSync(p)).length;
    assert.ok(gone > 0 && gone < FILES, `the kill landed mid-run (${gone} of ${FILES} deleted)`);
    const confirmed = await count(`SELECT count(*) AS n FROM tombstones WHERE state = 'done'`);
    const pending = await count(`SELECT count(*) AS n FROM tombstones WHERE state = 'pending'`);
    // At most the one in flight: deleted and not yet confirmed, or recorded and not yet deleted.
    assert.ok(pending <= 1, `pending ${pending}`);
    assert.ok(gone === confirmed || gone === confirmed + pending, `gone ${gone}, confirmed ${confirmed}, pending ${pending}`);
    assert.equal(await count(`SELECT count(*) AS n FROM cron_runs WHERE job = 'retention' AND outcome = 'running'`), 1);

    const rerun = await runJob(fx.srv, 'retention', '--at', isoAt(T + 100 * DAY));
    assert.equal(rerun.outcome, 'ok', JSON.stringify(rerun.errors));
    assert.equal(rerun.counts.reconciled ?? 0, pending);
    assert.equal(paths.filter((p) => existsSync(p)).length, 0);
    assert.equal(await count(`SELECT count(*) AS n FROM tombstones WHERE state = 'done'`), FILES);
    assert.equal(await count(`SELECT count(*) AS n FROM tombstones WHERE state = 'pending'`), 0);
    assert.equal(await count(`SELECT count(DISTINCT path) AS n FROM tombstones`), FILES, 'one tombstone per file');
    assert.equal(await count(`SELECT count(*) AS n FROM cron_runs WHERE job = 'retention' AND outcome = 'interrupted'`), 1);
  });
});
