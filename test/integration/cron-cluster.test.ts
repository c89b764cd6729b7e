import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe } from 'node:test';
import pino from 'pino';
import { parseConfig } from '../../core/config/load';
import { DataPaths } from '../../core/config/paths';
import { buildJobs } from '../../core/composition/jobs';
import { CronService } from '../../core/cron/service';
import type { Store } from '../../core/store/ports/store';
import { bothEngines } from '../helpers/postgres-contract';
import { until } from '../helpers/wait';

/** A pino logger whose lines are kept: what the late node says about the slot it did not run. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
  return { logger: pino({ level: 'info' }, sink), lines };
}

// Issue #20: two schedulers on one store (two nodes; SQLite: two processes on one file), a job
// every second (node-cron takes a seconds field, so this takes seconds, not minutes): each
// scheduled second is run once, by one of them, and the other logs it at info, not as a failure.
describe('cron in a cluster: each scheduled job runs once per schedule', () => {
  bothEngines('two nodes scheduling key-expiry every second: one run per second, the late node says who ran it', async (e) => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-cron-cluster-'));
    const config = parseConfig({ jobs: { timezone: 'UTC', keyExpiry: { schedule: '* * * * * *' }, retention: { enabled: false }, accountInactivity: { enabled: false } } });
    const nodes = [e.store, await e.another()].map((store: Store) => {
      const { logger, lines } = capturingLogger();
      const jobs = buildJobs({ config, paths: new DataPaths(dir), store, logger });
      return { service: new CronService(config, jobs.registry, jobs.runner, jobs.runs, logger), lines };
    });
    try {
      for (const n of nodes) await n.service.start();
      const taken = (): Array<Record<string, unknown>> => nodes.flatMap((n) => n.lines.filter((l) => l.code === 'FG_JOB_SLOT_TAKEN'));
      await until('three seconds run, and a slot refused to the late node', async () =>
        (await e.store.cronRuns.runs('key-expiry', 100)).filter((r) => r.outcome === 'ok').length >= 3 && taken().length >= 1, 15_000, 100);
    } finally {
      for (const n of nodes) await n.service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const runs = await e.store.cronRuns.runs('key-expiry', 100);
    const slots = runs.map((r) => r.slot);
    assert.ok(slots.every((s) => typeof s === 'number' && s % 1000 === 0), `every scheduled run names its second: ${slots.join(', ')}`);
    assert.equal(new Set(slots).size, slots.length, `one run per slot: ${slots.join(', ')}`);
    const [refused] = nodes.flatMap((n) => n.lines.filter((l) => l.code === 'FG_JOB_SLOT_TAKEN'));
    assert.equal(refused.level, 30, 'info: the cluster ran it, nothing failed');
    assert.match(String(refused.msg), /^job key-expiry was already run by .+ \(pid \d+\) for \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z \(run \d+, /);
    assert.ok(slots.includes(Date.parse(String(refused.slot))), 'the slot it names is one that ran');
    const failures = nodes.flatMap((n) => n.lines.filter((l) => Number(l.level) >= 50));
    assert.deepEqual(failures, [], 'no scheduled run reported as failed or not started');
  });
});
