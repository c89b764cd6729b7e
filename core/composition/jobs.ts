import type { FluxgateConfig } from '../config/schema';
import type { DataPaths } from '../config/paths';
import type { Logger } from '../logging/logger';
import { AccountInactivityJob } from '../accounts/jobs/inactivity-job';
import { KeyExpiryJob } from '../accounts/jobs/key-expiry-job';
import type { Jobs } from '../cron/jobs';
import { JobRegistry } from '../cron/registry';
import { JobRunner } from '../cron/runner';
import { CronService } from '../cron/service';
import { ExpectationsJob } from '../notify/expectations-job';
import { FileDeleter } from '../retention/deleter';
import { HousekeepingJob } from '../retention/housekeeping-job';
import { RetentionJob } from '../retention/retention-job';
import type { Store } from '../store/ports/store';

export interface JobsDeps {
  config: FluxgateConfig;
  paths: DataPaths;
  store: Store;
  logger: Logger;
}

export type { Jobs };

/** The jobs and their runner: for the server's schedule and for `fluxgate jobs`. */
export function buildJobs({ config, paths, store, logger }: JobsDeps): Jobs {
  const { accounts } = store;
  const { tombstones, retention } = store;
  const deleter = new FileDeleter(tombstones, logger);
  const registry = new JobRegistry([
    new RetentionJob(config, paths, accounts, retention, deleter),
    new AccountInactivityJob(config, paths, accounts, store.inactivity, retention, deleter),
    new KeyExpiryJob(config, accounts),
    new ExpectationsJob(config, store.expectations),
    new HousekeepingJob(config, store.housekeeping),
  ]);
  const runs = store.cronRuns;
  return { registry, runner: new JobRunner(registry, runs, logger), runs, tombstones };
}

/** The server's schedule of those jobs (a Service). */
export function composeCron(jobs: Jobs, config: FluxgateConfig, logger: Logger): CronService {
  return new CronService(config, jobs.registry, jobs.runner, jobs.runs, logger);
}
