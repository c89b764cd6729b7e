import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../store/event-types';

/**
 * The JSON Schema of each event type (what a webhook receives, `events list --json` prints):
 * generated from these zod schemas, printed by `fluxgate events schema`, and kept in
 * docs/events.schema.json (a test checks that file is current).
 */

const iso = z.string().describe('ISO 8601 date-time, UTC');
const fileData = z.object({
  path: z.string().describe('where it was uploaded, in the account tree (in/sal/…)'),
  size: z.number().int(), sha256: z.string(), state: z.string().describe('the journal state after this event'),
  counts: z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), rejected: z.number().int() }).optional(),
  report: z.string().optional().describe('the report written for the client, when there is one'),
  clientAddress: z.string().optional().describe('the SFTP client that uploaded it (the real address behind a trusted proxy); absent for a file found in the account tree'),
});
const expectationData = z.object({
  expectation: z.string(), schedule: z.string(), timezone: z.string(),
  periodStart: iso, deadline: iso, graceEnd: iso,
  file: z.object({ id: z.string(), name: z.string(), receivedAt: iso }).optional().describe('recovered: the file that arrived late'),
});

/** Per type: what it means, which of the common fields it always has, and its `data`. */
const TYPES: Record<EventType, { description: string; required: Array<'account' | 'fileId' | 'flux' | 'name' | 'code' | 'summary'>; data: z.ZodType }> = {
  'file.received': { description: 'a file was journaled (its upload is complete)', required: ['account', 'fileId', 'name', 'summary'], data: fileData },
  'file.processed': { description: 'the file\'s workflow ended: processed (its report may still list rejected rows)', required: ['account', 'fileId', 'name', 'summary'], data: fileData },
  'file.rejected': { description: 'the file was refused whole (bad name, format, content): kept in quarantine, reported', required: ['account', 'fileId', 'name', 'code', 'summary'], data: fileData },
  'file.dead': { description: 'every attempt to process the file failed: kept in quarantine (fluxgate replay)', required: ['account', 'fileId', 'name', 'summary'], data: fileData },
  'account.disabled': { description: 'an account was disabled (by an operator, the inactivity job, a purge)', required: ['account', 'summary'], data: z.object({ reason: z.string().nullable() }) },
  'account.purged': { description: 'an inactive account was purged: its files and directory rows deleted', required: ['account', 'summary'], data: z.object({ files: z.number().int(), bytes: z.number().int(), directoryRows: z.number().int() }) },
  'key.expiring': { description: 'an SSH key expires within keys.warnDays (once per key)', required: ['account', 'summary'], data: z.object({ fingerprint: z.string(), expiresAt: iso, daysLeft: z.number().int() }) },
  'key.expired': { description: 'an SSH key passed its validity: refused at login', required: ['account', 'summary'], data: z.object({ fingerprint: z.string(), expiresAt: iso }) },
  'login.banned': { description: 'an address was banned after repeated failed SFTP logins (account: the last user name tried)', required: ['summary'], data: z.object({ address: z.string(), user: z.string(), until: iso }) },
  'expectation.late': { description: 'no expected file by the period\'s deadline', required: ['account', 'name', 'summary'], data: expectationData },
  'expectation.missed': { description: 'still no expected file at the end of the grace', required: ['account', 'name', 'summary'], data: expectationData },
  'expectation.recovered': { description: 'a file arrived after a late or missed period\'s deadline', required: ['account', 'name', 'fileId', 'summary'], data: expectationData },
};

function eventSchema(type: EventType): z.ZodType {
  const t = TYPES[type];
  const optional = { account: z.string(), fileId: z.string(), flux: z.string(), name: z.string(), code: z.string().regex(/^FG_[A-Z0-9_]+$/), summary: z.string() };
  const fields: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(optional)) fields[k] = t.required.includes(k as never) ? v : v.optional();
  return z.object({
    id: z.string().describe('unique; also the webhook-id header (drop a duplicate by it)'),
    type: z.literal(type), time: iso, ...fields, data: t.data,
  }).describe(t.description);
}

export function eventJsonSchema(type: EventType): Record<string, unknown> {
  return { ...(z.toJSONSchema(eventSchema(type), { io: 'output' }) as Record<string, unknown>), $id: `https://fluxgate.invalid/events/${type}.schema.json`, title: type };
}

/** Every type, as one document: `oneOf` the per-type schemas (discriminated by `type`). */
export function eventsJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://fluxgate.invalid/events.schema.json',
    title: 'fluxgate events',
    description: 'The events fluxgate records and delivers (docs/events.md). Print with `fluxgate events schema`.',
    oneOf: EVENT_TYPES.map((t) => { const { $schema: _, ...s } = eventJsonSchema(t); return s; }),
  };
}
