import { FluxgateError } from '../errors';
import { JOB_NAMES, type Job, type JobName } from './job';

/** The jobs known to this process, by name. */
export class JobRegistry {
  private readonly jobs = new Map<JobName, Job>();

  constructor(jobs: Job[]) {
    for (const job of jobs) this.jobs.set(job.name, job);
  }

  list(): Job[] {
    return JOB_NAMES.map((n) => this.jobs.get(n)).filter((j): j is Job => j !== undefined);
  }

  get(name: string): Job {
    const job = this.jobs.get(name as JobName);
    if (!job) {
      throw new FluxgateError('FG_JOB_NOT_FOUND', `no job named "${name}": the jobs are ${this.list().map((j) => j.name).join(', ')}`, { job: name });
    }
    return job;
  }
}
