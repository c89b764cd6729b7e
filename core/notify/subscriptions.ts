import type { EventsConfig } from '../config/events-schema';
import type { FluxgateEvent } from '../store/event-types';

/** Which events a subscription receives: each list absent means "all". */
export interface EventFilter {
  events?: string[];
  accounts?: string[];
  fluxes?: string[];
}

export type Subscription =
  | { id: string; channel: 'webhook'; filter: EventFilter; url: string; secret: string }
  | { id: string; channel: 'email'; filter: EventFilter; to: string[]; digestMs: number };

/** `file.*` matches every `file.…` type; `*` matches all. */
function typeMatches(patterns: string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

export function matches(filter: EventFilter, e: FluxgateEvent): boolean {
  if (filter.events && !typeMatches(filter.events, e.type)) return false;
  // An event without an account (or flux) passes only filters that do not name any.
  if (filter.accounts && (e.account === undefined || !filter.accounts.includes(e.account))) return false;
  if (filter.fluxes && (e.flux === undefined || !filter.fluxes.includes(e.flux))) return false;
  return true;
}

/**
 * The subscriptions of `events:` in the config. Ids name deliveries (`webhook:ops`,
 * `email:hr-ops@example.com`): renaming one in the config starts a new subscription.
 */
export function subscriptionsOf(config: EventsConfig): Subscription[] {
  const list: Subscription[] = config.webhooks.map((w) => ({
    id: `webhook:${w.name}`, channel: 'webhook', url: w.url, secret: w.secret,
    filter: { events: w.events, accounts: w.accounts, fluxes: w.fluxes },
  }));
  for (const r of config.email?.routes ?? []) {
    list.push({
      id: `email:${r.name ?? r.to.join(',')}`, channel: 'email', to: r.to, digestMs: Math.round((r.digestMinutes ?? 0) * 60_000),
      filter: { events: r.events, accounts: r.accounts, fluxes: r.fluxes },
    });
  }
  return list;
}

/**
 * When a new delivery is first due. A digest route's deliveries are due at the end of the
 * digest window the event falls in (windows of `digestMs` from the epoch), so all events of a
 * window are claimed together and go in one mail: at most one mail per window.
 */
export function firstDueAt(s: Subscription, eventAt: number, now: number): number {
  if (s.channel !== 'email' || s.digestMs <= 0) return now;
  return Math.max(now, Math.ceil((eventAt + 1) / s.digestMs) * s.digestMs);
}
