import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextAttemptAt } from '../../core/notify/retry-policy';
import { firstDueAt, matches, subscriptionsOf } from '../../core/notify/subscriptions';
import { signWebhook } from '../../core/notify/webhook';
import { formatMail } from '../../core/notify/email-format';
import { eventsSchema } from '../../core/config/events-schema';
import type { FluxgateEvent } from '../../core/store/event-types';

test('webhook signatures match the Standard Webhooks reference vector', () => {
  // From the specification's reference libraries (standard-webhooks, its tests).
  assert.equal(
    signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  );
});

test('retry delays double with jitter between 50 and 100 %, capped, and stop at the horizon', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 8000, horizonMs: 60_000 };
  const low = () => 0;
  const high = () => 0.999999;
  assert.equal(nextAttemptAt(policy, 1, 0, 0, low), 500);
  assert.equal(nextAttemptAt(policy, 1, 0, 0, high), 1000);
  assert.equal(nextAttemptAt(policy, 3, 0, 0, high), 4000);
  assert.equal(nextAttemptAt(policy, 10, 0, 0, high), 8000, 'capped at maxDelayMs');
  assert.equal(nextAttemptAt(policy, 10, 55_000, 0, high), null, 'past the horizon: dead');
  assert.equal(nextAttemptAt(policy, 10, 55_000, 10_000, high), 63_000, 'the horizon counts from retryFrom (a manual retry)');
});

const event = (over: Partial<FluxgateEvent>): FluxgateEvent => ({ id: 'evt_1', type: 'file.rejected', time: '2027-01-01T00:00:00.000Z', data: {}, ...over });

test('subscriptions filter on types (exact or family), accounts and fluxes', () => {
  assert.ok(matches({}, event({})), 'no filter: everything');
  assert.ok(matches({ events: ['file.*'] }, event({ type: 'file.dead' })));
  assert.ok(!matches({ events: ['file.*'] }, event({ type: 'key.expired' })));
  assert.ok(!matches({ events: ['file.rejected'] }, event({ type: 'file.received' })));
  assert.ok(matches({ accounts: ['acme'], fluxes: ['sal'] }, event({ account: 'acme', flux: 'sal' })));
  assert.ok(!matches({ accounts: ['acme'] }, event({ account: 'globex' })));
  assert.ok(!matches({ fluxes: ['sal'] }, event({ account: 'acme' })), 'an event without a flux does not pass a flux filter');
});

test('a digest route\'s deliveries are due at the end of their window; others at once', () => {
  const config = eventsSchema.parse({
    webhooks: [{ name: 'ops', url: 'https://hooks.example.com/x', secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}` }],
    email: { smtp: { host: 'smtp.example.com' }, from: 'f@example.com', routes: [{ to: ['a@example.com'], digestMinutes: 15 }, { name: 'now', to: ['b@example.com'] }] },
  });
  const [hook, digest, now] = subscriptionsOf(config);
  assert.deepEqual([hook.id, digest.id, now.id], ['webhook:ops', 'email:a@example.com', 'email:now']);
  const window = 15 * 60_000;
  assert.equal(firstDueAt(hook, 5 * window + 10, 5 * window + 20), 5 * window + 20);
  assert.equal(firstDueAt(now, 5 * window + 10, 5 * window + 20), 5 * window + 20);
  assert.equal(firstDueAt(digest, 5 * window + 10, 5 * window + 20), 6 * window, 'events of one window share one due time');
  assert.equal(firstDueAt(digest, 5 * window + 10, 7 * window), 7 * window, 'routed late: due at once');
});

test('the events config refuses what cannot work, saying why', () => {
  const problems = (raw: unknown) => (eventsSchema.safeParse(raw).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.match(problems({ webhooks: [{ name: 'x', url: 'https://h.example.com', secret: 'not-a-secret' }] }).join(), /webhooks\.0\.secret: a Standard Webhooks secret/);
  assert.match(problems({ webhooks: [{ name: 'x', url: 'ftp://h.example.com', secret: `whsec_${Buffer.alloc(24).toString('base64')}` }] }).join(), /url/);
  assert.match(problems({ delivery: { timeoutMs: 5000, leaseMs: 2000 } }).join(), /leaseMs must be longer than timeoutMs/);
  assert.match(problems({ delivery: { horizon: 'tomorrow' } }).join(), /delivery\.horizon: a duration/);
});

test('a mail\'s subject says what happened and to which account, on one line whatever the file name', () => {
  const one = formatMail([event({ account: 'acme', name: 'evil\r\nBcc: someone@example.com.csv', code: 'FG_EMPTY_FILE' })]);
  assert.equal(one.subject, '[fluxgate] file rejected for account acme: evil Bcc: someone@example.com.csv (FG_EMPTY_FILE)');
  const digest = formatMail([event({ account: 'acme' }), event({ id: 'evt_2', account: 'acme' }), event({ id: 'evt_3', type: 'expectation.missed', account: 'globex' })]);
  assert.equal(digest.subject, '[fluxgate] 3 events for accounts acme, globex: 2 × file rejected, expected file missed');
  assert.equal(formatMail([event({ name: '<b>x</b>' })]).html.includes('<b>x</b>'), false, 'HTML-escaped');
});
