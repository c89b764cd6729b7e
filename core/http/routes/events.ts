import { z } from 'zod';
import { parseAsOf } from '../../cron/as-of';
import { acknowledgeExpectation, statusOf } from '../../notify/expectations';
import { deliveryView, expectationStatusView } from '../../notify/views';
import { DELIVERY_STATES, type DeliveryState } from '../../store/ports/events';
import { EVENT_TYPES } from '../../store/event-types';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { asReply, responses } from '../schemas';

// Issue #22 in the operator API: what `fluxgate events|deliveries|expectations` do (docs/events.md).

const iso = z.string().nullable();
const Event = z.looseObject({
  id: z.string(), type: z.enum(EVENT_TYPES), time: z.string(), account: z.string().optional(), fileId: z.string().optional(),
  flux: z.string().optional(), name: z.string().optional(), code: z.string().optional(), summary: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
}).describe('an event (its JSON Schema per type: fluxgate events schema)');
const Delivery = z.object({
  id: z.number(), eventId: z.string(), subscription: z.string(), channel: z.enum(['webhook', 'email']), state: z.enum(DELIVERY_STATES as [DeliveryState, ...DeliveryState[]]),
  attempts: z.number(), dueAt: iso, lastStatus: z.number().nullable(), lastError: z.string().nullable(), createdAt: iso, updatedAt: iso, deliveredAt: iso,
});
const ExpectationStatus = z.object({
  name: z.string(), account: z.string(), flux: z.string().nullable(), namePattern: z.string().nullable(), schedule: z.string(), timezone: z.string(),
  grace: z.union([z.string(), z.number()]), state: z.enum(['pending', 'met', 'late', 'missed', 'recovered']),
  period: z.object({ start: iso, deadline: iso, graceEnd: iso }),
  file: z.object({ id: z.string(), name: z.string(), receivedAt: iso }).nullable(),
  raised: z.object({ late: iso, missed: iso, recovered: iso }),
  acknowledged: z.object({ at: iso, by: z.string().nullable() }).nullable(),
});
const families = [...new Set(EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`))];
const At = z.string().optional().describe('ISO 8601 date, or +Nd / -Nd from now (default: now)');

export function registerEventRoutes(app: ZodApp, deps: HttpDeps): void {
  const { events, deliveries, expectations } = deps.store;
  const atOf = (value: string | undefined): number => (value === undefined ? Date.now() : parseAsOf(value, Date.now(), 'at'));

  app.get('/api/v1/events', {
    schema: {
      summary: 'recorded events, oldest first (the most recent `limit`)', tags: ['events'],
      querystring: z.object({
        since: z.iso.datetime({ offset: true }).optional(), type: z.enum([...EVENT_TYPES, ...families] as [string, ...string[]]).optional(),
        account: z.string().optional(), limit: z.coerce.number().int().min(1).max(10_000).default(100),
      }),
      response: responses({ 200: z.array(Event) }),
    },
  }, async (request) => {
    const { since, type, account, limit } = request.query;
    return asReply((await events.list({ since: since ? Date.parse(since) : undefined, type, account, limit })).map((e) => e.event));
  });

  app.get('/api/v1/deliveries', {
    schema: {
      summary: 'deliveries of events to webhooks and mailboxes, newest first', tags: ['events'],
      querystring: z.object({
        state: z.enum(DELIVERY_STATES as [DeliveryState, ...DeliveryState[]]).optional(), event: z.string().optional(),
        limit: z.coerce.number().int().min(1).max(10_000).default(100),
      }),
      response: responses({ 200: z.array(Delivery) }),
    },
  }, async (request) => (await deliveries.list({ state: request.query.state, eventId: request.query.event, limit: request.query.limit })).map(deliveryView));

  app.post('/api/v1/deliveries/:id/retry', {
    schema: {
      summary: 'send a failed or dead delivery again now, with a new retry horizon', tags: ['events'],
      params: z.object({ id: z.coerce.number().int().min(1) }), response: responses({ 200: Delivery }),
    },
  }, async (request) => deliveryView(await deliveries.retry(request.params.id)));

  app.get('/api/v1/expectations', {
    schema: {
      summary: 'each expectation\'s current period and state (pending, met, late, missed, recovered)', tags: ['events'],
      querystring: z.object({ at: At }), response: responses({ 200: z.array(ExpectationStatus) }),
    },
  }, async (request) => {
    const at = atOf(request.query.at);
    return (await Promise.all(deps.config.expectations.map((spec) => statusOf(expectations, spec, at)))).map(expectationStatusView);
  });

  app.post('/api/v1/expectations/:name/ack', {
    schema: {
      summary: 'acknowledge the late or missed period the status shows (recorded with the operator\'s name)', tags: ['events'],
      params: z.object({ name: z.string() }), body: z.strictObject({ at: At }).default({}), response: responses({ 200: ExpectationStatus }),
    },
  }, async (request) => {
    const by = request.principal?.actor ?? 'operator';
    return expectationStatusView(await acknowledgeExpectation(expectations, deps.config.expectations, request.params.name, by, atOf(request.body.at)));
  });
}
