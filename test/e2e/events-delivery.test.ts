import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleClient } from '../helpers/console';
import { makeKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';
import { WebhookReceiver, type Answer } from '../helpers/webhook-receiver';

// Delivery guarantees through the real server and a real HTTP endpoint: retries with backoff
// until a 2xx (then never again), dead past the horizon and re-deliverable, and a server killed
// (SIGKILL) while sending delivers after its restart.
const skip = skipUnless('ssh-keygen');
const SECRET = `whsec_${Buffer.from('another-test-secret-0123456789abcdef').toString('base64')}`;
let server: TestServer;
let receiver: WebhookReceiver;
let answer: Answer = () => 204;

interface DeliveryView { id: number; eventId: string; subscription: string; state: string; attempts: number; lastStatus: number | null; lastError: string | null }

before(async () => {
  if (skip) return;
  receiver = await new WebhookReceiver(SECRET, (n, hook) => answer(n, hook)).start();
  server = new TestServer({
    config: {
      events: {
        webhooks: [{ name: 'ops', url: receiver.url, secret: SECRET, events: ['account.*'] }],
        // Seconds, not the production minutes and hours, so the test runs in seconds.
        // timeoutMs: the SIGKILL test's hanging receiver must still hold its attempt when the kill comes, however slow the machine.
        delivery: { pollIntervalMs: 100, baseDelayMs: 200, maxDelayMs: 400, horizon: '3s', timeoutMs: 10_000, leaseMs: 11_000 },
      },
      expectations: [{ name: 'acme-daily-sal', account: 'acme', flux: 'sal', schedule: '0 7 * * *', timezone: 'Europe/Paris', grace: '2h' }],
    },
  });
  await server.start();
});
after(async () => {
  await server?.cleanup();
  await receiver?.close();
});

async function disable(account: string): Promise<string> {
  const key = makeKey();
  assert.equal((await server.cli('account', 'add', account, '--key', key.publicPath)).code, 0);
  const r = await server.cli('account', 'disable', account);
  assert.equal(r.code, 0, r.stderr);
  const events = JSON.parse((await server.cli('events', 'list', '--type', 'account.disabled', '--json')).stdout) as Array<{ id: string; account: string }>;
  const event = events.find((e) => e.account === account);
  assert.ok(event, `account.disabled recorded for ${account}`);
  return event.id;
}

async function deliveryOf(eventId: string): Promise<DeliveryView> {
  const r = await server.cli('deliveries', 'list', '--event', eventId, '--json');
  const [d] = JSON.parse(r.stdout) as DeliveryView[];
  assert.ok(d, `a delivery of ${eventId}`);
  return d;
}

const hooksOf = (eventId: string) => receiver.received.filter((h) => h.headers['webhook-id'] === eventId);

test('a webhook that fails three times, then answers 2xx, gets the event exactly once', { skip }, async () => {
  let calls = 0;
  answer = (_n, hook) => (hook.json.account === 'flaky' ? (++calls <= 3 ? 500 : 204) : 204);
  const eventId = await disable('flaky');
  await until('the delivery succeeded', () => hooksOf(eventId).some((h) => h.answer === 204), 15_000);
  await new Promise((r) => setTimeout(r, 1500)); // time for any (wrong) further attempt
  const hooks = hooksOf(eventId);
  assert.deepEqual(hooks.map((h) => h.answer), [500, 500, 500, 204], 'three failures, one success, nothing after it');
  assert.ok(hooks.every((h) => h.verified), 'every attempt is signed');
  assert.equal(new Set(hooks.map((h) => h.headers['webhook-timestamp'])).size >= 2, true, 'each attempt is signed with its own timestamp');
  const d = await deliveryOf(eventId);
  assert.deepEqual([d.state, d.attempts, d.lastStatus, d.lastError], ['delivered', 4, 204, null]);
});

test('a delivery failing past the horizon is dead, listed as such, and `deliveries retry` sends it', { skip }, async () => {
  let up = false;
  answer = (_n, hook) => (hook.json.account === 'down' && !up ? 503 : 204);
  const eventId = await disable('down');
  const deadline = Date.now() + 20_000;
  let d = await deliveryOf(eventId);
  while (d.state !== 'dead') {
    if (Date.now() > deadline) assert.fail(`still ${d.state} after 20 s: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 200));
    d = await deliveryOf(eventId);
  }
  assert.equal(d.lastStatus, 503);
  assert.match(d.lastError ?? '', /answered 503/);
  const attempts = hooksOf(eventId).length;
  assert.ok(attempts >= 2, `retried before dying (${attempts} attempts)`);
  const dead = JSON.parse((await server.cli('deliveries', 'list', '--state', 'dead', '--json')).stdout) as DeliveryView[];
  assert.ok(dead.some((x) => x.id === d.id));
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(hooksOf(eventId).length, attempts, 'a dead delivery is not attempted again by itself');

  up = true;
  const retried = await server.cli('deliveries', 'retry', String(d.id), '--json');
  assert.equal(retried.code, 0, retried.stderr);
  assert.equal((JSON.parse(retried.stdout) as DeliveryView).state, 'pending');
  await until('the retried delivery succeeded', () => hooksOf(eventId).some((h) => h.answer === 204), 10_000);
  for (let i = 0; (await deliveryOf(eventId)).state !== 'delivered'; i++) {
    if (i > 50) assert.fail('not recorded delivered');
    await new Promise((r) => setTimeout(r, 100));
  }
  const again = await server.cli('deliveries', 'retry', String(d.id), '--json');
  assert.equal(again.code, 1);
  assert.equal((JSON.parse(again.stderr) as { error: { code: string } }).error.code, 'FG_DELIVERY_STATE');
  const missing = await server.cli('deliveries', 'retry', '999999');
  assert.match(missing.stderr, /FG_DELIVERY_NOT_FOUND/);
});

async function api(token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.httpUrl}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() as unknown };
}
async function token(name: string, role: 'admin' | 'viewer'): Promise<string> {
  const r = await server.cli('token', 'create', '--name', name, '--role', role, '--json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

test('the operator API lists events, deliveries and expectations; retrying and acknowledging need an admin and are audited', { skip }, async () => {
  const [admin, viewer] = [await token('events-admin', 'admin'), await token('events-viewer', 'viewer')];
  assert.ok(server.logs.some((l) => l.msg === 'job scheduled' && l.job === 'expectations' && l.schedule === '*/5 * * * *'), 'an expectation is configured: its job is scheduled');
  answer = (_n, hook) => (hook.json.account === 'api-down' ? 503 : 204);
  const eventId = await disable('api-down');
  for (let i = 0; (await deliveryOf(eventId)).state !== 'dead'; i++) {
    if (i > 100) assert.fail('never dead');
    await new Promise((r) => setTimeout(r, 200));
  }
  const listed = await api(viewer, 'GET', '/api/v1/events?type=account.disabled');
  assert.equal(listed.status, 200);
  assert.ok((listed.json as Array<{ id: string }>).some((e) => e.id === eventId));
  const dead = await api(viewer, 'GET', '/api/v1/deliveries?state=dead');
  const delivery = (dead.json as DeliveryView[]).find((d) => d.eventId === eventId)!;
  assert.ok(delivery, JSON.stringify(dead.json));

  assert.equal((await api(viewer, 'POST', `/api/v1/deliveries/${delivery.id}/retry`)).status, 403, 'a viewer may not retry');
  const retried = await api(admin, 'POST', `/api/v1/deliveries/${delivery.id}/retry`);
  assert.deepEqual([retried.status, (retried.json as DeliveryView).state], [200, 'pending']);
  assert.equal((await api(admin, 'POST', '/api/v1/deliveries/999999/retry')).status, 404);

  const late = await api(viewer, 'GET', '/api/v1/expectations?at=2027-03-28T06:00:00Z');
  assert.deepEqual((late.json as Array<{ name: string; state: string }>).map((e) => [e.name, e.state]), [['acme-daily-sal', 'late']]);
  const acked = await api(admin, 'POST', '/api/v1/expectations/acme-daily-sal/ack', { at: '2027-03-28T06:00:00Z' });
  assert.equal(acked.status, 200);
  assert.equal((acked.json as { acknowledged: { by: string } }).acknowledged.by, 'token:events-admin');
  assert.equal((await api(admin, 'POST', '/api/v1/expectations/nope/ack', {})).status, 404);

  const audit = JSON.parse((await server.cli('audit', '--json')).stdout) as Array<{ actor: string; action: string; status: number }>;
  assert.ok(audit.some((e) => e.action === 'POST /api/v1/deliveries/:id/retry' && e.actor === 'token:events-admin' && e.status === 200));
  assert.ok(audit.some((e) => e.action === 'POST /api/v1/deliveries/:id/retry' && e.actor === 'token:events-viewer' && e.status === 403));
  assert.ok(audit.some((e) => e.action === 'POST /api/v1/expectations/:name/ack' && e.status === 200));
});

test('the console shows expectations, failed deliveries and events; an admin sends a dead delivery again and acknowledges an incident', { skip }, async () => {
  answer = (_n, hook) => (hook.json.account === 'console-down' ? 503 : 204);
  const eventId = await disable('console-down');
  for (let i = 0; (await deliveryOf(eventId)).state !== 'dead'; i++) {
    if (i > 100) assert.fail('never dead');
    await new Promise((r) => setTimeout(r, 200));
  }
  const added = await server.cliWithInput('a long enough pass phrase\n', 'admin', 'add', 'ops', '--role', 'admin', '--password-stdin');
  assert.equal(added.code, 0, added.stderr);
  const browser = new ConsoleClient(server.httpUrl!);
  await browser.login('ops', 'a long enough pass phrase');
  const pageText = (await browser.get('/console/events')).text;
  const { id } = await deliveryOf(eventId);
  assert.match(pageText, new RegExp(`action="/console/deliveries/${id}/retry"`), 'the dead delivery, with its button');
  assert.match(pageText, /acme-daily-sal/);
  assert.match(pageText, new RegExp(eventId));
  // No file ever came for acme: the last period is missed, and can be acknowledged.
  assert.match(pageText, /action="\/console\/expectations\/acme-daily-sal\/ack"/);

  // The receiver is back first: the retried delivery is then sent and delivered. (Still failing,
  // its new attempts could all run out before the state was read: under load, read as `dead`.)
  answer = () => 204;
  const retried = await browser.post(`/console/deliveries/${id}/retry`);
  assert.deepEqual([retried.status, retried.location], [303, '/console/events?done=retried']);
  await until('the delivery sent again from the console is delivered', async () => (await deliveryOf(eventId)).state === 'delivered', 15_000);
  const acked = await browser.post('/console/expectations/acme-daily-sal/ack');
  assert.equal(acked.status, 303);
  const after = (await browser.get('/console/events?done=acknowledged')).text;
  assert.match(after, /Incident acknowledged\./);
  assert.match(after, /by operator:ops/);
});

test('a server killed (SIGKILL) while sending an event delivers it after its restart', { skip }, async () => {
  answer = (_n, hook) => (hook.json.account === 'crash' && hooksOf(String(hook.headers['webhook-id'])).length === 0 ? 'hang' : 204);
  const eventId = await disable('crash');
  await until('the first attempt is in flight', () => hooksOf(eventId).length === 1, 10_000);
  await server.kill();
  await server.start();
  await until('the event was sent again after the restart', () => hooksOf(eventId).length === 2, 15_000);
  const released = await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('deliveries interrupted by a stop or crash'));
  assert.equal(released.released, 1, 'its lease, left by the killed server, was given back at start');
  const hooks = hooksOf(eventId);
  assert.deepEqual(hooks.map((h) => h.answer), ['hang', 204]);
  assert.equal(hooks[1].body, hooks[0].body, 'the same event: a receiver drops the duplicate by its webhook-id');
  for (let i = 0; (await deliveryOf(eventId)).state !== 'delivered'; i++) {
    if (i > 50) assert.fail('not recorded delivered');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await deliveryOf(eventId)).attempts, 1, 'the killed attempt was never recorded; the one after the restart was');
});
