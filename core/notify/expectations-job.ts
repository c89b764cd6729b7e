import type { FluxgateConfig } from '../config/schema';
import type { Job, JobContext } from '../cron/job';
import type { ExpectationRepository } from '../store/ports/events';
import { evaluateExpectations } from './expectations';

/**
 * Evaluates the expected files (`expectations:`) and raises expectation.late / .missed /
 * .recovered, each once per period. Scheduled every 5 minutes by default (`jobs.expectations`),
 * and not at all when no expectation is configured;
 * `fluxgate jobs run expectations --at ISO` evaluates as of any instant.
 */
export class ExpectationsJob implements Job {
  readonly name = 'expectations' as const;
  readonly description = 'raises expectation.late / missed / recovered for expected files';

  constructor(private readonly config: FluxgateConfig, private readonly repo: ExpectationRepository) {}

  idleReason(): string | undefined {
    return this.config.expectations.length === 0 ? 'no expectations in the config (expectations:)' : undefined;
  }

  async run(ctx: JobContext): Promise<void> {
    ctx.counts.add('checked', this.config.expectations.length);
    for (const r of await evaluateExpectations(this.repo, this.config.expectations, ctx.asOf, ctx.dryRun)) {
      ctx.record({ action: r.incident, target: r.expectation, detail: { deadline: new Date(r.deadline).toISOString() } });
    }
  }
}
