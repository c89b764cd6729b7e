import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SqliteDeliveryRepository } from '../../core/store/deliveries-repository';
import { SqliteEventRepository } from '../../core/store/events-repository';
import { SqliteJournalRepository } from '../../core/store/journal-repository';
import { makeKey } from '../helpers/keys';
import { REPO_ROOT } from '../helpers/server';
import { skipUnless } from '../helpers/tools';
import { DAY, isoAt, JobsFixture, runJob } from './jobs-support';

// The outbox on the real database: events are written in the transaction of the change that
// causes them (a change that fails leaves no event; an event that cannot be written undoes the
// change), and the CLI lists them and publishes their JSON Schema.
let fx: JobsFixture;
let journal: SqliteJournalRepository;

interface EventJson { id: string; type: string; time: string; account?: string; fileId?: string; code?: string; summary?: string; data: Record<string, unknown> }
async function events(...args: string[]): Promise<EventJson[]> {
  const r = await fx.srv.cli('events', 'list', '--json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as EventJson[];
}

before(() => {
  fx = new JobsFixture();
  journal = new SqliteJournalRepository(fx.db);
});
after(async () => { await fx.cleanup(); });

const upload = (name: string) => ({
  accountId: 'acme', profile: 'exchange' as const, flux: 'sal', workflow: 'sal', originalPath: `in/sal/${name}`, name, size: 3,
  sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: `/nowhere/acme/in/sal/${name}`,
});

test('a file\'s arrival and end are events of the same transaction as the journal\'s transition', async () => {
  const f = (await journal.insert(upload('a.csv')))!;
  await journal.startAttempt(f.id, 1, 5, 'sal');
  await journal.finish(f.id, 'rejected', { result: 'rejected', code: 'FG_MISSING_COLUMN', summary: 'the column lastname is missing' });
  const mine = (await events()).filter((e) => e.fileId === f.id);
  assert.deepEqual(mine.map((e) => [e.type, e.account, e.code ?? null]), [['file.received', 'acme', null], ['file.rejected', 'acme', 'FG_MISSING_COLUMN']]);
  assert.equal(mine[1].summary, 'the column lastname is missing');
  assert.match(mine[0].id, /^evt_\d{14}_[0-9a-f]{12}$/);

  // The event cannot be written: the transition is undone with it (nothing half-recorded).
  const g = (await journal.insert(upload('b.csv')))!;
  await journal.startAttempt(g.id, 1, 5, 'sal');
  fx.db.exec(`CREATE TEMP TRIGGER refuse_event BEFORE INSERT ON events WHEN NEW.type = 'file.dead' BEGIN SELECT RAISE(ABORT, 'outbox refused'); END`);
  try {
    await assert.rejects(async () => await journal.finish(g.id, 'dead', { result: 'dead', code: 'FG_INTERNAL', summary: 'x' }), /outbox refused/);
  } finally {
    fx.db.exec('DROP TRIGGER refuse_event');
  }
  assert.equal((await journal.get(g.id))!.state, 'processing', 'the state change was rolled back with the event');
  assert.deepEqual((await journal.events(g.id)).map((e) => e.type), ['received', 'attempt']);

  // A transition that fails (no such file) records no event.
  const before = (await events()).length;
  await assert.rejects(async () => await journal.finish('f_missing', 'processed', { result: 'processed' }), /FG_FILE_NOT_FOUND|not in the journal/);
  assert.equal((await events()).length, before);

  assert.deepEqual((await events('--type', 'file.rejected')).map((e) => e.fileId), [f.id]);
  assert.equal((await events('--type', 'file.*')).length, 3);
  assert.equal((await events('--since', '2099-01-01')).length, 0);
  const bad = await fx.srv.cli('events', 'list', '--type', 'file.gone', '--json');
  assert.equal(bad.code, 2, 'an unknown type is a usage error');
});

test('account.disabled once per disabling; key.expiring and key.expired from the key-expiry job', { skip: skipUnless('ssh-keygen') }, async () => {
  const key = makeKey('rsa', 3072); // valid keys.rsaShortValidityDays (730 days)
  const T = Date.now();
  await (await fx.accountService()).create({ id: 'keyed', publicKey: readFileSync(key.publicPath, 'utf8'), now: T });
  assert.equal((await fx.srv.cli('account', 'disable', 'keyed')).code, 0);
  assert.equal((await fx.srv.cli('account', 'disable', 'keyed')).code, 0);
  const disabled = await events('--type', 'account.disabled', '--account', 'keyed');
  assert.equal(disabled.length, 1, 'disabling a disabled account is not an event');
  assert.match(disabled[0].summary ?? '', /account keyed disabled/);

  await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 710 * DAY));
  await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 711 * DAY));
  await runJob(fx.srv, 'key-expiry', '--dry-run', '--at', isoAt(T + 731 * DAY));
  await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 731 * DAY));
  const keyEvents = await events('--type', 'key.*', '--account', 'keyed');
  assert.deepEqual(keyEvents.map((e) => e.type), ['key.expiring', 'key.expired'], 'warned once, expired once, nothing for the dry run');
  assert.deepEqual([keyEvents[0].data.fingerprint, keyEvents[0].data.daysLeft], [key.fingerprint, 20]);
});

test('the published JSON Schema is the one the CLI prints, one schema per event type', async () => {
  const r = await fx.srv.cli('events', 'schema');
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout) as { oneOf: Array<{ title: string; required: string[]; properties: { type: { const: string } } }> };
  assert.equal(schema.oneOf.length, 12);
  const rejected = schema.oneOf.find((s) => s.title === 'file.rejected')!;
  assert.deepEqual([...rejected.required].sort(), ['account', 'code', 'data', 'fileId', 'id', 'name', 'summary', 'time', 'type']);
  const published = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'events.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(published, schema, 'docs/events.schema.json is current: run `fluxgate events schema --write docs`');
});

test('deliveries: routed once per subscription, claimed under a lease, recorded only by the lease\'s holder', async () => {
  const outbox = new SqliteEventRepository(fx.db);
  const deliveries = new SqliteDeliveryRepository(fx.db);
  const id = await outbox.record({ type: 'key.expired', account: 'acme', at: 1_000 });
  const event = (await outbox.unrouted()).find((e) => e.event.id === id)!;
  const planned = [{ subscription: 'webhook:a', channel: 'webhook' as const, dueAt: 2_000 }, { subscription: 'email:b', channel: 'email' as const, dueAt: 2_000 }];
  await outbox.route([{ event, deliveries: planned }], 2_000);
  await outbox.route([{ event, deliveries: planned }], 2_000); // a second router (another node) adds nothing
  assert.equal((await deliveries.list({ eventId: id })).length, 2);
  assert.ok(!(await outbox.unrouted()).some((e) => e.event.id === id), 'routed');

  assert.deepEqual((await deliveries.claim('node-a', 1_999, 10_000)).filter((c) => c.delivery.eventId === id), [], 'not due yet');
  const mine = (await deliveries.claim('node-a', 2_000, 10_000)).filter((c) => c.delivery.eventId === id);
  assert.equal(mine.length, 2);
  assert.equal(mine[0].event.event.id, id);
  assert.deepEqual((await deliveries.claim('node-b', 5_000, 10_000)).filter((c) => c.delivery.eventId === id), [], 'leased: nobody else takes them');
  // node-a is presumed dead once its lease lapsed: node-b takes over, and node-a's late answer is not recorded.
  const taken = (await deliveries.claim('node-b', 12_001, 10_000)).filter((c) => c.delivery.eventId === id);
  assert.equal(taken.length, 2);
  assert.equal(await deliveries.delivered(mine[0].delivery.id, 'node-a', 12_500, 204), false);
  assert.equal(await deliveries.delivered(taken[0].delivery.id, 'node-b', 12_600, 204), true);
  assert.equal(await deliveries.failed(taken[1].delivery.id, 'node-b', 12_700, { status: 500, error: 'answered 500', nextAt: 20_000 }), true);
  const [a, b] = [(await deliveries.get(taken[0].delivery.id))!, (await deliveries.get(taken[1].delivery.id))!];
  assert.deepEqual([a.state, a.attempts, a.deliveredAt], ['delivered', 1, 12_600]);
  assert.deepEqual([b.state, b.attempts, b.dueAt, b.lastStatus], ['failed', 1, 20_000, 500]);
  assert.deepEqual((await deliveries.claim('node-b', 19_999, 10_000)).filter((c) => c.delivery.eventId === id), [], 'the retry waits for its time');
  await assert.rejects(deliveries.retry(a.id), /FG_DELIVERY_STATE|only a failed or dead/);
});
