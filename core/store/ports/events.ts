import type { NewEvent, StoredEvent } from '../event-types';

export interface EventQuery {
  /** Epoch ms: events at or after. */
  since?: number;
  type?: string;
  account?: string;
  /** The most recent this many (default 100). */
  limit?: number;
}

/** A delivery to make: one subscription of an event. */
export interface PlannedDelivery {
  subscription: string;
  channel: 'webhook' | 'email';
  dueAt: number;
}

/**
 * The outbox's read side: listing events, and routing them (the dispatcher turns each new event
 * into its deliveries, once). Events are written by the repositories whose state change causes
 * them, in that change's transaction; `record` is for events of no other change.
 */
export interface EventRepository {
  /** Returns the event's id. */
  record(event: NewEvent): Promise<string>;
  get(id: string): Promise<StoredEvent | undefined>;
  /** Matching events, oldest first (the most recent `limit` of them). */
  list(q?: EventQuery): Promise<StoredEvent[]>;
  /** Events not routed yet, in order. */
  unrouted(limit?: number): Promise<StoredEvent[]>;
  /**
   * Unit of work: makes the events' deliveries and marks them routed, atomically. Idempotent
   * (one row per event × subscription): two nodes routing the same event make each delivery once.
   */
  route(routes: Array<{ event: StoredEvent; deliveries: PlannedDelivery[] }>, at?: number): Promise<void>;
}

export type DeliveryState = 'pending' | 'failed' | 'delivered' | 'dead';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'failed', 'delivered', 'dead'];

export interface Delivery {
  id: number;
  eventId: string;
  subscription: string;
  channel: 'webhook' | 'email';
  state: DeliveryState;
  attempts: number;
  dueAt: number;
  /** The retry horizon counts from here (creation, or the last `deliveries retry`). */
  retryFrom: number;
  leaseUntil: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

/** A claimed delivery and its event. */
export interface ClaimedDelivery { delivery: Delivery; event: StoredEvent }

/**
 * Deliveries (one per event × subscription). The dispatcher claims due ones under a lease:
 * a process killed while sending leaves the lease to lapse, and the delivery is sent again.
 * Results are recorded only by the lease's holder, so a delivery is recorded `delivered` once.
 */
export interface DeliveryRepository {
  /** Unit of work: due deliveries not leased by anyone, leased to `holder` until now + leaseMs, with their events. */
  claim(holder: string, now: number, leaseMs: number, limit?: number): Promise<ClaimedDelivery[]>;
  /** A 2xx (or an accepted mail): final. False when the lease was lost meanwhile. */
  delivered(id: number, holder: string, at: number, status: number | null): Promise<boolean>;
  /** The attempt failed: `failed` and due again at `nextAt`, or `dead` (nextAt null). */
  failed(id: number, holder: string, at: number, failure: { status: number | null; error: string; nextAt: number | null }): Promise<boolean>;
  /** Single node, at start-up: leases a crash left are released so their deliveries are sent at once. */
  releaseAllLeases(): Promise<number>;
  get(id: number): Promise<Delivery | undefined>;
  /** Newest first. */
  list(q?: { state?: DeliveryState; eventId?: string; limit?: number }): Promise<Delivery[]>;
  /** A failed or dead delivery is due again now, with a new horizon (`fluxgate deliveries retry`); FG_DELIVERY_NOT_FOUND, FG_DELIVERY_STATE. */
  retry(id: number, at?: number): Promise<Delivery>;
}

export type IncidentKind = 'late' | 'missed' | 'recovered';

export interface PeriodRecord {
  lateAt: number | null;
  missedAt: number | null;
  recoveredAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
}

/** A journal file as an expectation sees it. */
export interface ArrivedFile { id: string; name: string; flux: string | null; receivedAt: number }

/** What expectations read (the journal's arrivals) and keep (which events each period raised). */
export interface ExpectationRepository {
  /**
   * The first file of the account received in [from, to] (epoch ms, both included) whose flux
   * is `flux` (when given) and whose name passes `accept`.
   */
  firstFile(account: string, from: number, to: number, flux: string | undefined, accept: (name: string) => boolean): Promise<ArrivedFile | undefined>;
  period(expectation: string, deadline: number): Promise<PeriodRecord | undefined>;
  /**
   * Unit of work: records that the period reached `kind` and, atomically, its event; only the
   * first caller does (whichever process or node): false when it was already raised.
   */
  raise(expectation: string, deadline: number, kind: IncidentKind, at: number, event: NewEvent): Promise<boolean>;
  acknowledge(expectation: string, deadline: number, by: string, at: number): Promise<void>;
}
