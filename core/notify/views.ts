import type { Delivery } from '../store/ports/events';
import type { ExpectationStatus } from './expectations';

/** The JSON shapes of deliveries and expectation statuses, the same for the CLI (--json) and the HTTP API. */

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined || !Number.isFinite(t) ? null : new Date(t).toISOString());

export interface DeliveryView {
  id: number; eventId: string; subscription: string; channel: 'webhook' | 'email'; state: Delivery['state']; attempts: number;
  dueAt: string | null; lastStatus: number | null; lastError: string | null; createdAt: string | null; updatedAt: string | null; deliveredAt: string | null;
}

export const deliveryView = (d: Delivery): DeliveryView => ({
  id: d.id, eventId: d.eventId, subscription: d.subscription, channel: d.channel, state: d.state, attempts: d.attempts,
  dueAt: d.state === 'pending' || d.state === 'failed' ? iso(d.dueAt) : null, lastStatus: d.lastStatus, lastError: d.lastError,
  createdAt: iso(d.createdAt), updatedAt: iso(d.updatedAt), deliveredAt: iso(d.deliveredAt),
});

export interface ExpectationStatusView {
  name: string; account: string; flux: string | null; namePattern: string | null; schedule: string; timezone: string; grace: string | number;
  state: ExpectationStatus['state'];
  period: { start: string | null; deadline: string | null; graceEnd: string | null };
  file: { id: string; name: string; receivedAt: string | null } | null;
  raised: { late: string | null; missed: string | null; recovered: string | null };
  acknowledged: { at: string | null; by: string | null } | null;
}

export function expectationStatusView(s: ExpectationStatus): ExpectationStatusView {
  const r = s.record;
  return {
    name: s.spec.name, account: s.spec.account, flux: s.spec.flux ?? null, namePattern: s.spec.namePattern ?? null,
    schedule: s.spec.schedule, timezone: s.spec.timezone, grace: s.spec.grace, state: s.state,
    period: { start: iso(s.period.start), deadline: iso(s.period.deadline), graceEnd: iso(s.period.graceEnd) },
    file: s.file ? { id: s.file.id, name: s.file.name, receivedAt: iso(s.file.receivedAt) } : null,
    raised: { late: iso(r?.lateAt), missed: iso(r?.missedAt), recovered: iso(r?.recoveredAt) },
    acknowledged: r?.acknowledgedAt ? { at: iso(r.acknowledgedAt), by: r.acknowledgedBy } : null,
  };
}
