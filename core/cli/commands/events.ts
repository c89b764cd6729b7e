import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { parseAsOf } from '../../cron/as-of';
import { FluxgateError } from '../../errors';
import { eventsJsonSchema } from '../../notify/event-schemas';
import { subscriptionsOf } from '../../notify/subscriptions';
import { deliveryView } from '../../notify/views';
import { DELIVERY_STATES, type DeliveryState } from '../../store/ports/events';
import { EVENT_TYPES } from '../../store/event-types';
import { table } from '../../text-table';
import { JSON_HELP } from '../json';
import { registerSubscriptionCommands } from './event-subscriptions';
import type { CliContext, RegisterCommands } from '../context';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return n;
}

function parseType(value: string): string {
  const families = new Set(EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`));
  if (!(EVENT_TYPES as readonly string[]).includes(value) && !families.has(value)) {
    throw new InvalidArgumentError(`must be one of ${EVENT_TYPES.join(', ')} (or a family: ${[...families].join(', ')})`);
  }
  return value;
}

function parseDeliveryState(value: string): DeliveryState {
  if (!(DELIVERY_STATES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${DELIVERY_STATES.join(', ')}`);
  return value as DeliveryState;
}

export const registerEventCommands: RegisterCommands = (program: Command, ctx: CliContext) => {
  const events = program.command('events').description('events (file rejected, key expired, expectation missed…): the outbox webhooks and mails are sent from (docs/events.md)');

  events.command('list')
    .description('recorded events, oldest first (the most recent 100 unless --limit)')
    .option('--since <date>', 'only events since this date (ISO 8601, or -Nd: N days ago)')
    .option('--type <type>', 'only this type (file.rejected) or family (file.*)', parseType)
    .option('--account <id>', 'only this account')
    .option('--limit <n>', 'at most this many (the most recent)', parseLimit)
    .option('--json', JSON_HELP)
    .action(async (opts: { since?: string; type?: string; account?: string; limit?: number; json?: boolean }) => {
      const since = opts.since === undefined ? undefined : parseAsOf(opts.since, Date.now(), '--since');
      const list = await ctx.store.events.list({ since, type: opts.type, account: opts.account, limit: opts.limit });
      if (opts.json) return ctx.printJson(list.map((e) => e.event));
      if (list.length === 0) return ctx.print('no events');
      const rows = list.map(({ event: e }) => [e.time, e.type, e.account ?? '-', e.name ?? '-', e.code ?? '-', e.summary ?? '', e.id]);
      for (const line of table(['TIME', 'TYPE', 'ACCOUNT', 'NAME', 'CODE', 'SUMMARY', 'ID'], rows)) ctx.print(line);
    });

  events.command('schema')
    .description('print the JSON Schema of the events (one per type, in oneOf), or write it to DIR/events.schema.json')
    .option('--write <dir>', 'write the schema file into this directory')
    .option('--json', `${JSON_HELP}; the schema itself is JSON either way`)
    .action((opts: { write?: string; json?: boolean }) => {
      const schema = eventsJsonSchema();
      if (!opts.write) return ctx.printJson(schema);
      mkdirSync(opts.write, { recursive: true });
      const file = join(opts.write, 'events.schema.json');
      writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
      if (opts.json) ctx.printJson({ written: file }); else ctx.print(`wrote ${file}`);
    });

  events.command('secret')
    .description('print a new Standard Webhooks secret (whsec_…) for a webhook of the config (events.webhooks[].secret)')
    .option('--json', JSON_HELP)
    .action((opts: { json?: boolean }) => {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      if (opts.json) ctx.printJson({ secret }); else ctx.print(secret);
    });

  events.command('subscriptions')
    .description('the subscriptions of the config (events: webhooks and e-mail routes) and what each receives; secrets are not shown')
    .option('--json', JSON_HELP)
    .action((opts: { json?: boolean }) => {
      const list = subscriptionsOf(ctx.config.config.events).map((s) => ({
        id: s.id, channel: s.channel, target: s.channel === 'webhook' ? s.url : s.to.join(', '),
        events: s.filter.events ?? null, accounts: s.filter.accounts ?? null, fluxes: s.filter.fluxes ?? null,
        digestMinutes: s.channel === 'email' && s.digestMs > 0 ? s.digestMs / 60_000 : null,
      }));
      if (opts.json) return ctx.printJson(list);
      if (list.length === 0) return ctx.print('no subscriptions (events.webhooks and events.email.routes in the config file)');
      const all = (v: string[] | null): string => (v ? v.join(',') : 'all');
      const rows = list.map((s) => [s.id, s.target, all(s.events), all(s.accounts), all(s.fluxes), s.digestMinutes === null ? '-' : `${s.digestMinutes} min`]);
      for (const line of table(['SUBSCRIPTION', 'TARGET', 'EVENTS', 'ACCOUNTS', 'FLUXES', 'DIGEST'], rows)) ctx.print(line);
    });

  registerSubscriptionCommands(events, ctx);

  const deliveries = program.command('deliveries').description('deliveries of events to webhooks and mailboxes: one per event and subscription');

  deliveries.command('list')
    .description('deliveries, newest first (100 unless --limit): state pending, failed (retrying), delivered or dead')
    .option('--state <state>', `only this state (${DELIVERY_STATES.join(', ')})`, parseDeliveryState)
    .option('--event <id>', 'only the deliveries of this event')
    .option('--limit <n>', 'at most this many', parseLimit)
    .option('--json', JSON_HELP)
    .action(async (opts: { state?: DeliveryState; event?: string; limit?: number; json?: boolean }) => {
      const list = await ctx.store.deliveries.list({ state: opts.state, eventId: opts.event, limit: opts.limit });
      if (opts.json) return ctx.printJson(list.map(deliveryView));
      if (list.length === 0) return ctx.print('no deliveries');
      const rows = list.map((d) => [String(d.id), d.state, String(d.attempts), d.subscription, d.eventId,
        d.state === 'delivered' ? (iso(d.deliveredAt) ?? '') : d.state === 'dead' ? '-' : (iso(d.dueAt) ?? ''), d.lastError ?? '']);
      for (const line of table(['ID', 'STATE', 'ATTEMPTS', 'SUBSCRIPTION', 'EVENT', 'DELIVERED/DUE', 'LAST ERROR'], rows)) ctx.print(line);
    });

  deliveries.command('retry')
    .description('send a failed or dead delivery again now, with a new retry horizon (the running server sends it)')
    .argument('<id>', 'the delivery id (deliveries list)')
    .option('--json', JSON_HELP)
    .action(async (id: string, opts: { json?: boolean }) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 1) throw new FluxgateError('FG_USAGE', `"${id}" is not a delivery id: a whole number (see fluxgate deliveries list)`);
      const d = await ctx.store.deliveries.retry(n);
      if (opts.json) ctx.printJson(deliveryView(d));
      else ctx.print(`delivery ${d.id} (${d.subscription}, event ${d.eventId}) is due again now: the server sends it at its next poll`);
    });
};
