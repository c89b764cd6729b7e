import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { appendToList, editConfigFile, removeFromList } from '../../config/edit';
import { FluxgateError } from '../../errors';
import { subscriptionsOf } from '../../notify/subscriptions';
import { JSON_HELP } from '../json';
import type { CliContext } from '../context';

const RESTART_NOTE = 'the server reads subscriptions when it starts: restart it for the change to take effect';

const list = (value: string): string[] => value.split(',').map((v) => v.trim()).filter(Boolean);

interface SubscribeOptions {
  name?: string; webhook?: string; secret?: string; email?: string;
  types?: string; accounts?: string; fluxes?: string; digestMinutes?: string; json?: boolean;
}

/** The filter part of a subscription, as the config file spells it (absent: everything). */
function filterOf(opts: SubscribeOptions): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (opts.types) filter.events = list(opts.types);
  if (opts.accounts) filter.accounts = list(opts.accounts);
  if (opts.fluxes) filter.fluxes = list(opts.fluxes);
  return filter;
}

/**
 * `events subscribe` and `events unsubscribe`: the subscriptions of the config file
 * (`events.webhooks`, `events.email.routes`), edited with its comments kept and refused when the
 * file would be invalid (core/config/edit.ts), as `expectations add/remove` do.
 */
export function registerSubscriptionCommands(events: Command, ctx: CliContext): void {
  events.command('subscribe')
    .description('add a subscription to the config file: a webhook (--webhook URL) or an e-mail route (--email ADDRESSES); restart the server after')
    .option('--name <name>', 'its name (webhooks: required; e-mail: default the recipients)')
    .option('--webhook <url>', 'POST each event to this http(s) URL, signed (Standard Webhooks)')
    .option('--secret <whsec>', 'the webhook\'s signing secret (default: a new one, printed once)')
    .option('--email <addresses>', 'send each event (or a digest) to these addresses, comma-separated (needs events.email.smtp and from)')
    .option('--types <types>', 'event types, comma-separated (file.rejected,file.dead; file.* for a family; default all)')
    .option('--accounts <ids>', 'only events of these accounts, comma-separated (default all)')
    .option('--fluxes <fluxes>', 'only events of these fluxes, comma-separated (default all)')
    .option('--digest-minutes <n>', 'e-mail: at most one mail per this many minutes, grouping the events')
    .option('--json', JSON_HELP)
    .action((opts: SubscribeOptions) => {
      const file = ctx.config.file;
      if (Boolean(opts.webhook) === Boolean(opts.email)) {
        throw new FluxgateError('FG_BAD_REQUEST', 'give either --webhook URL or --email ADDRESSES');
      }
      const existing = new Set(subscriptionsOf(ctx.config.config.events).map((s) => s.id));
      if (opts.webhook) {
        if (!opts.name) throw new FluxgateError('FG_BAD_REQUEST', 'a webhook needs a --name (it names its deliveries: webhook:<name>)');
        const id = `webhook:${opts.name}`;
        if (existing.has(id)) throw new FluxgateError('FG_SUBSCRIPTION_EXISTS', `${id} is already in ${file ?? 'the config'}: remove it first (fluxgate events unsubscribe ${id})`, { subscription: id });
        const secret = opts.secret ?? `whsec_${randomBytes(32).toString('base64')}`;
        const entry = { name: opts.name, url: opts.webhook, secret, ...filterOf(opts) };
        editConfigFile(file, 'subscriptions', (doc) => appendToList(doc, ['events', 'webhooks'], entry));
        if (opts.json) return ctx.printJson({ added: id, url: opts.webhook, secret, file, note: RESTART_NOTE });
        ctx.print(`added ${id} to ${file}; its signing secret (give it to the receiver): ${secret}`);
        return ctx.print(RESTART_NOTE);
      }
      if (!ctx.config.config.events.email) {
        throw new FluxgateError('FG_CONFIG', `e-mail routes need events.email (smtp and from) in ${file ?? 'the config file'} first (docs/events.md)`);
      }
      const to = list(opts.email!);
      const id = `email:${opts.name ?? to.join(',')}`;
      if (existing.has(id)) throw new FluxgateError('FG_SUBSCRIPTION_EXISTS', `${id} is already in ${file ?? 'the config'}: remove it first (fluxgate events unsubscribe ${id})`, { subscription: id });
      const entry: Record<string, unknown> = { ...(opts.name ? { name: opts.name } : {}), to, ...filterOf(opts) };
      if (opts.digestMinutes !== undefined) entry.digestMinutes = Number(opts.digestMinutes);
      editConfigFile(file, 'subscriptions', (doc) => appendToList(doc, ['events', 'email', 'routes'], entry));
      if (opts.json) return ctx.printJson({ added: id, to, file, note: RESTART_NOTE });
      ctx.print(`added ${id} to ${file}; ${RESTART_NOTE}`);
    });

  events.command('unsubscribe')
    .description('remove a subscription from the config file (its past deliveries stay); restart the server after')
    .argument('<id>', 'the subscription, as `events subscriptions` names it (webhook:ops, email:hr-ops@example.com)')
    .option('--json', JSON_HELP)
    .action((id: string, opts: { json?: boolean }) => {
      const file = ctx.config.file;
      const known = subscriptionsOf(ctx.config.config.events).map((s) => s.id);
      if (!known.includes(id)) {
        throw new FluxgateError('FG_SUBSCRIPTION_NOT_FOUND', `no subscription ${id} in ${file ?? 'the config'}${known.length ? ` (there are: ${known.join(', ')})` : ''}`, { subscription: id });
      }
      editConfigFile(file, 'subscriptions', (doc) => {
        if (id.startsWith('webhook:')) removeFromList(doc, ['events', 'webhooks'], (w) => `webhook:${String(w.name)}` === id);
        else removeFromList(doc, ['events', 'email', 'routes'], (r) => `email:${typeof r.name === 'string' ? r.name : (r.to as string[]).join(',')}` === id);
      });
      if (opts.json) return ctx.printJson({ removed: id, file, note: RESTART_NOTE });
      ctx.print(`removed ${id} from ${file}; ${RESTART_NOTE}`);
    });
}
