import { FluxgateError } from '../errors';
import { DAY_MS } from './job';

/**
 * Parses `--at`: an ISO 8601 date or date-time (`2027-01-05`, `2027-01-05T10:00:00Z`), or a
 * day offset from now (`+46d`, `-3d`) for operators checking a policy.
 */
export function parseAsOf(value: string, now = Date.now(), option = '--at'): number {
  const offset = /^([+-]\d+)d$/.exec(value.trim());
  if (offset) return now + Number(offset[1]) * DAY_MS;
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim());
  const at = Date.parse(value);
  if (!iso || Number.isNaN(at)) {
    throw new FluxgateError('FG_USAGE', `${option} "${value}" is not an ISO date (2027-01-05 or 2027-01-05T10:00:00Z) nor a day offset (+46d)`);
  }
  // Date.parse rolls 2027-02-30 over to March 2: a day that does not exist is refused.
  const [y, m, d] = value.trim().slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) {
    throw new FluxgateError('FG_USAGE', `${option} "${value}": ${value.trim().slice(0, 10)} is not a day of the calendar`);
  }
  return at;
}
