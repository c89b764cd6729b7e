import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eventsSchema } from '../../core/config/events-schema';
import { silentLogger } from '../../core/logging/logger';
import { EventDispatcher, UNSUBSCRIBED_POLL_MS } from '../../core/notify/dispatcher';
import { openDatabase } from '../../core/store/database';
import { SqliteDeliveryRepository } from '../../core/store/deliveries-repository';
import { SqliteEventRepository } from '../../core/store/events-repository';

// The dispatcher on a real database, counting its rounds (each claims due deliveries once):
// with no subscription it does not poll (an idle server is not woken every second for
// nothing); with one, it polls at delivery.pollIntervalMs as before, so retries are on time.
const dir = mkdtempSync(join(tmpdir(), 'fg-dispatch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function roundsIn(ms: number, events: Record<string, unknown>): Promise<number> {
  const db = openDatabase(join(dir, `fluxgate-${Math.random().toString(16).slice(2)}.db`));
  const deliveries = new SqliteDeliveryRepository(db);
  let rounds = 0;
  const claim = deliveries.claim.bind(deliveries);
  deliveries.claim = (...args: Parameters<SqliteDeliveryRepository['claim']>) => { rounds++; return claim(...args); };
  const dispatcher = new EventDispatcher(eventsSchema.parse(events), new SqliteEventRepository(db), deliveries, silentLogger());
  await dispatcher.start();
  try {
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    await dispatcher.stop();
    db.close();
  }
  return rounds;
}

test('without subscriptions the dispatcher runs one round at start, then sleeps', async () => {
  assert.ok(UNSUBSCRIBED_POLL_MS >= 60_000);
  const rounds = await roundsIn(600, { delivery: { pollIntervalMs: 20 } });
  assert.equal(rounds, 1, `${rounds} rounds in 600 ms`);
});

test('with a subscription it still polls at delivery.pollIntervalMs (deliveries and their retries go out on time)', async () => {
  const rounds = await roundsIn(600, { webhooks: [{ name: 'hr', url: 'http://127.0.0.1:9/hook', secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}` }], delivery: { pollIntervalMs: 20 } });
  assert.ok(rounds >= 10, `${rounds} rounds in 600 ms`);
});
