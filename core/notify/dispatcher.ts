import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseDuration, type EventsConfig } from '../config/events-schema';
import type { Logger } from '../logging/logger';
import type { ClaimedDelivery, DeliveryRepository, EventRepository } from '../store/ports/events';
import type { Service } from '../tokens';
import { EmailChannel } from './email';
import { nextAttemptAt, type DeliveryRetryPolicy } from './retry-policy';
import { firstDueAt, matches, subscriptionsOf, type Subscription } from './subscriptions';
import { postWebhook, type SendResult } from './webhook';

/**
 * With no subscription nothing can be delivered: the dispatcher only marks new events routed
 * (and ends deliveries left by a removed subscription) this often, instead of every poll, so an
 * idle server is not woken every second for nothing (bench:scale, CPU at rest).
 */
export const UNSUBSCRIBED_POLL_MS = 60_000;

/**
 * Delivers the outbox: routes each new event to the subscriptions that want it (one delivery
 * row each), then claims due deliveries under a lease and sends them. A 2xx (an accepted mail)
 * records the delivery `delivered`, once; a failure schedules a retry with backoff and jitter
 * until the horizon, then `dead`. A process killed mid-send leaves its lease to lapse and the
 * delivery is sent again: receivers drop the duplicate by its `webhook-id` (docs/events.md).
 */
export class EventDispatcher implements Service {
  readonly name = 'events';
  private readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly subscriptions: Map<string, Subscription>;
  private readonly policy: DeliveryRetryPolicy;
  private readonly leaseMs: number;
  private email?: EmailChannel;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;
  private readonly logger: Logger;

  constructor(
    private readonly config: EventsConfig,
    private readonly events: EventRepository,
    private readonly deliveries: DeliveryRepository,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'events' });
    this.subscriptions = new Map(subscriptionsOf(config).map((s) => [s.id, s]));
    const d = config.delivery;
    this.policy = { baseDelayMs: d.baseDelayMs, maxDelayMs: d.maxDelayMs, horizonMs: parseDuration(d.horizon)! };
    this.leaseMs = d.leaseMs;
  }

  async start(): Promise<void> {
    if (this.config.email) this.email = new EmailChannel(this.config.email, this.config.delivery.timeoutMs);
    const released = await this.deliveries.releaseAllLeases();
    if (released > 0) this.logger.info({ released }, 'deliveries interrupted by a stop or crash are sent again (receivers drop a duplicate by its webhook-id)');
    this.logger.info({ subscriptions: [...this.subscriptions.keys()] }, 'event dispatcher started');
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
    this.email?.close();
  }

  private schedule(delay: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => { this.logger.error({ err }, 'event dispatch failed; retrying at the next poll'); })
        .finally(() => { this.running = undefined; this.schedule(this.pollMs); });
    }, delay);
  }

  private get pollMs(): number {
    return this.subscriptions.size > 0 ? this.config.delivery.pollIntervalMs : Math.max(this.config.delivery.pollIntervalMs, UNSUBSCRIBED_POLL_MS);
  }

  /** One round: route what is new, send what is due. Exposed for tests of the store's side. */
  async tick(now = Date.now()): Promise<void> {
    await this.route(now);
    const claimed = await this.deliveries.claim(this.holder, now, this.leaseMs);
    if (claimed.length === 0) return;
    const batches = new Map<string, ClaimedDelivery[]>();
    for (const c of claimed) {
      const s = this.subscriptions.get(c.delivery.subscription);
      // A digest groups its claimed deliveries in one mail; everything else goes one by one.
      const key = s?.channel === 'email' && s.digestMs > 0 ? s.id : `#${c.delivery.id}`;
      batches.set(key, [...(batches.get(key) ?? []), c]);
    }
    await Promise.all([...batches.values()].map((batch) => this.send(batch)));
  }

  private async route(now: number): Promise<void> {
    for (;;) {
      const events = await this.events.unrouted();
      if (events.length === 0) return;
      await this.events.route(events.map((e) => ({
        event: e,
        deliveries: [...this.subscriptions.values()].filter((s) => matches(s.filter, e.event))
          .map((s) => ({ subscription: s.id, channel: s.channel, dueAt: firstDueAt(s, e.at, now) })),
      })), now);
    }
  }

  private async send(batch: ClaimedDelivery[]): Promise<void> {
    const first = batch[0];
    const s = this.subscriptions.get(first.delivery.subscription);
    let result: SendResult;
    if (!s) {
      result = { ok: false, status: null, error: `the subscription ${first.delivery.subscription} is no longer in the config (events:)` };
    } else if (s.channel === 'webhook') {
      result = await postWebhook(s.url, s.secret, first.event.event, this.config.delivery.timeoutMs);
    } else if (!this.email) {
      result = { ok: false, status: null, error: 'events.email is not configured' };
    } else {
      result = await this.email.send(s.to, batch.map((c) => c.event.event));
    }
    const at = Date.now();
    for (const { delivery, event } of batch) {
      const log = { delivery: delivery.id, event: event.event.id, type: event.event.type, subscription: delivery.subscription, status: result.status };
      if (result.ok) {
        if (await this.deliveries.delivered(delivery.id, this.holder, at, result.status)) this.logger.info(log, 'event delivered');
        continue;
      }
      const nextAt = s ? nextAttemptAt(this.policy, delivery.attempts + 1, at, delivery.retryFrom) : null;
      await this.deliveries.failed(delivery.id, this.holder, at, { status: result.status, error: result.error ?? 'failed', nextAt });
      if (nextAt === null) {
        this.logger.error({ ...log, error: result.error }, s
          ? 'event delivery dead: past its retry horizon (fluxgate deliveries retry re-sends it)'
          : 'event delivery dead: its subscription is no longer in the config');
      }
      else this.logger.warn({ ...log, error: result.error, retryAt: new Date(nextAt).toISOString() }, 'event delivery failed; retrying');
    }
  }
}
