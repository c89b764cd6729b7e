import { EventDispatcher } from '../notify/dispatcher';
import type { DeliveryRepository, EventRepository } from '../store/ports/events';
import type { State } from './state';

/**
 * Events and notifications (issue #22): the dispatcher that delivers the outbox, and the
 * SFTP server's bans turned into `login.banned` events (core/sftp only says them on its sink).
 */
export function composeNotify(state: State): { events: EventRepository; deliveries: DeliveryRepository; dispatcher: EventDispatcher } {
  const { events, deliveries } = state.store;
  state.uploads.onSignal((s) => {
    if (s.type !== 'ban') return;
    events.record({
      type: 'login.banned', account: s.user || null,
      summary: `address ${s.address} banned until ${new Date(s.until).toISOString()} after repeated failed logins${s.user ? ` (last as ${s.user})` : ''}`,
      data: { address: s.address, user: s.user, until: new Date(s.until).toISOString() },
    }).catch((err: unknown) => { state.logger.error({ err, address: s.address }, 'cannot record the login.banned event'); });
  });
  return { events, deliveries, dispatcher: new EventDispatcher(state.config.events, events, deliveries, state.logger) };
}
