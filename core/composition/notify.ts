import { EventDispatcher } from '../notify/dispatcher';
import { DeliveryRepository } from '../store/deliveries-repository';
import { EventRepository } from '../store/events-repository';
import type { State } from './state';

/**
 * Events and notifications (issue #22): the dispatcher that delivers the outbox, and the
 * SFTP server's bans turned into `login.banned` events (core/sftp only says them on its sink).
 */
export function composeNotify(state: State): { events: EventRepository; deliveries: DeliveryRepository; dispatcher: EventDispatcher } {
  const events = new EventRepository(state.db);
  const deliveries = new DeliveryRepository(state.db);
  state.uploads.onSignal((s) => {
    if (s.type !== 'ban') return;
    events.record({
      type: 'login.banned', account: s.user || null,
      summary: `address ${s.address} banned until ${new Date(s.until).toISOString()} after repeated failed logins${s.user ? ` (last as ${s.user})` : ''}`,
      data: { address: s.address, user: s.user, until: new Date(s.until).toISOString() },
    });
  });
  return { events, deliveries, dispatcher: new EventDispatcher(state.config.events, events, deliveries, state.logger) };
}
