import type { CronRepository, TombstoneRepository } from '../store/ports/jobs';
import type { JobRegistry } from './registry';
import type { JobRunner } from './runner';

/**
 * The jobs, their runner and their records: built by the composition root (buildJobs,
 * core/composition/jobs.ts), used by the schedule, `fluxgate jobs` and the HTTP API.
 */
export interface Jobs {
  registry: JobRegistry;
  runner: JobRunner;
  runs: CronRepository;
  tombstones: TombstoneRepository;
}
