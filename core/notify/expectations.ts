import { Cron } from 'croner';
import { parseDuration, type ExpectationConfig } from '../config/events-schema';
import { FluxgateError } from '../errors';
import type { NewEvent } from '../store/event-types';
import type { ArrivedFile, ExpectationRepository, IncidentKind, PeriodRecord } from '../store/ports/events';

export type ExpectationState = 'pending' | 'met' | 'late' | 'missed' | 'recovered';

/** A period ends at a schedule tick (its deadline) and begins at the tick before. */
export interface Period { start: number; deadline: number; graceEnd: number }

export interface Assessment {
  period: Period;
  state: ExpectationState;
  /** The file that met it, or that recovered it. */
  file?: ArrivedFile;
  /** The incidents the period has gone through by then, in order: what events it raises. */
  incidents: IncidentKind[];
}

/** The schedule of an expectation, in its time zone (croner computes ticks across DST changes). */
export class ExpectationClock {
  private readonly cron: Cron;
  readonly graceMs: number;

  constructor(readonly spec: ExpectationConfig) {
    this.cron = new Cron(spec.schedule, { timezone: spec.timezone, paused: true });
    this.graceMs = parseDuration(spec.grace)!;
  }

  private around(deadline: number): Period {
    const start = this.cron.previousRuns(1, new Date(deadline))[0]?.getTime() ?? Number.NEGATIVE_INFINITY;
    return { start, deadline, graceEnd: deadline + this.graceMs };
  }

  /** The period running at `at` (its deadline is the first tick after `at`). */
  open(at: number): Period | undefined {
    const next = this.cron.nextRun(new Date(at));
    return next ? this.around(next.getTime()) : undefined;
  }

  /** The last period whose deadline is at or before `at`. */
  lastClosed(at: number): Period | undefined {
    const last = this.cron.previousRuns(1, new Date(at + 1))[0];
    return last ? this.around(last.getTime()) : undefined;
  }
}

/** `*` and `?` glob on a file name. */
function globMatcher(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => true;
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
  return (name) => re.test(name);
}

/**
 * What a period is at `at`, from the journal alone (so it is the same whoever computes it): a
 * file received in [start, deadline) meets it; none by the deadline is late; none by the end
 * of the grace, missed; the first file after the deadline (up to `at`) recovers it.
 */
export async function assess(repo: ExpectationRepository, spec: ExpectationConfig, period: Period, at: number): Promise<Assessment> {
  const accept = globMatcher(spec.namePattern);
  const inTime = await repo.firstFile(spec.account, period.start, Math.min(period.deadline - 1, at), spec.flux, accept);
  if (inTime) return { period, state: 'met', file: inTime, incidents: [] };
  if (at < period.deadline) return { period, state: 'pending', incidents: [] };
  const after = await repo.firstFile(spec.account, period.deadline, at, spec.flux, accept);
  if (after && after.receivedAt < period.graceEnd) return { period, state: 'recovered', file: after, incidents: ['late', 'recovered'] };
  if (at < period.graceEnd) return { period, state: 'late', incidents: ['late'] };
  if (after) return { period, state: 'recovered', file: after, incidents: ['late', 'missed', 'recovered'] };
  return { period, state: 'missed', incidents: ['late', 'missed'] };
}

export interface ExpectationStatus extends Assessment {
  spec: ExpectationConfig;
  record?: PeriodRecord;
}

/**
 * What `expectations status` shows: the last closed period while it is an incident (late or
 * missed), otherwise the period running now (pending or met).
 */
export async function statusOf(repo: ExpectationRepository, spec: ExpectationConfig, at: number): Promise<ExpectationStatus> {
  const clock = new ExpectationClock(spec);
  const closed = clock.lastClosed(at);
  const last = closed && await assess(repo, spec, closed, at);
  const shown = last && (last.state === 'late' || last.state === 'missed') ? last : await assess(repo, spec, clock.open(at) ?? closed!, at);
  return { ...shown, spec, record: await repo.period(spec.name, shown.period.deadline) };
}

const iso = (t: number): string => new Date(t).toISOString();

function incidentEvent(spec: ExpectationConfig, a: Assessment, kind: IncidentKind, at: number): NewEvent {
  const what = spec.flux ? `a ${spec.flux} file` : `a file named ${spec.namePattern}`;
  const summary = kind === 'late'
    ? `${spec.name}: no ${what.slice(2)} from ${spec.account} by its deadline ${iso(a.period.deadline)}`
    : kind === 'missed'
      ? `${spec.name}: still no ${what.slice(2)} from ${spec.account} at the end of the grace (${iso(a.period.graceEnd)})`
      : `${spec.name}: ${a.file?.name ?? 'a file'} arrived from ${spec.account} after the deadline ${iso(a.period.deadline)}`;
  return {
    type: `expectation.${kind}`, at, account: spec.account, flux: spec.flux ?? a.file?.flux ?? null, name: spec.name,
    fileId: kind === 'recovered' ? a.file?.id : undefined, summary,
    data: {
      expectation: spec.name, schedule: spec.schedule, timezone: spec.timezone,
      periodStart: iso(a.period.start), deadline: iso(a.period.deadline), graceEnd: iso(a.period.graceEnd),
      ...(kind === 'recovered' && a.file ? { file: { id: a.file.id, name: a.file.name, receivedAt: iso(a.file.receivedAt) } } : {}),
    },
  };
}

/**
 * Evaluates every expectation as of `at` and raises the events of the last closed period that
 * were not raised yet (each once: the store decides, so nodes may run this concurrently).
 * Returns what it raised.
 */
export async function evaluateExpectations(repo: ExpectationRepository, specs: ExpectationConfig[], at: number, dryRun = false): Promise<Array<{ expectation: string; deadline: number; incident: IncidentKind }>> {
  const raised: Array<{ expectation: string; deadline: number; incident: IncidentKind }> = [];
  for (const spec of specs) {
    const period = new ExpectationClock(spec).lastClosed(at);
    if (!period) continue;
    const a = await assess(repo, spec, period, at);
    const known = await repo.period(spec.name, period.deadline);
    for (const kind of a.incidents) {
      if (dryRun) {
        if (!known || known[`${kind}At`] === null) raised.push({ expectation: spec.name, deadline: period.deadline, incident: kind });
        continue;
      }
      if (await repo.raise(spec.name, period.deadline, kind, at, incidentEvent(spec, a, kind, at))) raised.push({ expectation: spec.name, deadline: period.deadline, incident: kind });
    }
  }
  return raised;
}

export function findExpectation(specs: ExpectationConfig[], name: string): ExpectationConfig {
  const spec = specs.find((s) => s.name === name);
  if (!spec) {
    throw new FluxgateError('FG_EXPECTATION_NOT_FOUND', `no expectation named "${name}" in the config (expectations:): ${specs.map((s) => s.name).join(', ') || 'none configured'}`, { expectation: name });
  }
  return spec;
}

/** Acknowledges the period `statusOf` shows at `at` (who and when are kept); returns the status after. */
export async function acknowledgeExpectation(repo: ExpectationRepository, specs: ExpectationConfig[], name: string, by: string, at: number, now = Date.now()): Promise<ExpectationStatus> {
  const spec = findExpectation(specs, name);
  await repo.acknowledge(spec.name, (await statusOf(repo, spec, at)).period.deadline, by, now);
  return statusOf(repo, spec, at);
}
