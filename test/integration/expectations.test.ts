import { strict as assert } from 'node:assert';
import { appendFileSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { JournalRepository } from '../../core/store/ports/journal';
import { JobsFixture, runJob } from './jobs-support';

// Expected files driven with --at across the change to summer time in Europe/Paris (Sunday
// 28 March 2027, 02:00 CET → 03:00 CEST): "a sal file every day by 07:00 Paris time, missed if
// nothing by 09:00". 07:00 is 06:00 UTC on the Saturday and 05:00 UTC on the Sunday. Files are
// journaled at chosen times through the journal repository, as intake does, on the real database.
let fx: JobsFixture;
let journal: JournalRepository;
const at = (iso: string): number => Date.parse(iso);

before(async () => {
  fx = new JobsFixture({
    expectations: [{ name: 'acme-daily-sal', account: 'acme', flux: 'sal', schedule: '0 7 * * *', timezone: 'Europe/Paris', grace: '2h' }],
  });
  journal = (await fx.store()).store.journal;
});
after(async () => { await fx.cleanup(); });

let n = 0;
async function receive(receivedAt: number, flux = 'sal'): Promise<string> {
  const name = `ndmat_acme_acme_${flux}_hrmanager_v6_${String(++n).padStart(12, '0')}.csv`;
  return (await journal.insert({
    accountId: 'acme', profile: 'exchange', flux, workflow: flux, originalPath: `in/${flux}/${name}`, name, size: 10,
    sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: `${fx.paths.accountRoot('acme')}/in/${flux}/${name}`, receivedAt,
  }, receivedAt))!.id;
}

interface Status { name: string; state: string; period: { start: string; deadline: string; graceEnd: string }; file: { id: string } | null; acknowledged: { by: string } | null }
async function status(iso: string): Promise<Status> {
  const r = await fx.srv.cli('expectations', 'status', '--at', iso, '--json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Status[])[0];
}
async function expectationEvents(): Promise<Array<{ type: string; fileId?: string; data: Record<string, string> }>> {
  const r = await fx.srv.cli('events', 'list', '--type', 'expectation.*', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as never;
}

test('late, missed, then recovered across the DST change, each event raised once', async () => {
  // Friday's file meets the period ending Saturday 07:00 CET (06:00 UTC).
  const friday = await receive(at('2027-03-26T10:00:00Z'));
  let s = await status('2027-03-27T05:59:00Z');
  assert.deepEqual([s.state, s.period.deadline, s.file?.id], ['met', '2027-03-27T06:00:00.000Z', friday]);
  // A file of another flux does not count.
  await receive(at('2027-03-27T12:00:00Z'), 'sir');

  // Saturday → Sunday is 23 hours: the deadline is 07:00 CEST, 05:00 UTC.
  s = await status('2027-03-28T04:59:00Z');
  assert.deepEqual([s.state, s.period.start, s.period.deadline, s.period.graceEnd],
    ['pending', '2027-03-27T06:00:00.000Z', '2027-03-28T05:00:00.000Z', '2027-03-28T07:00:00.000Z']);
  assert.equal((await runJob(fx.srv, 'expectations', '--at', '2027-03-28T04:59:00Z')).actions.length, 0);

  const late = await runJob(fx.srv, 'expectations', '--at', '2027-03-28T05:01:00Z');
  assert.deepEqual(late.actions.map((a) => [a.action, a.target]), [['late', 'acme-daily-sal']]);
  assert.equal((await status('2027-03-28T05:01:00Z')).state, 'late');
  assert.equal((await runJob(fx.srv, 'expectations', '--at', '2027-03-28T06:00:00Z')).actions.length, 0, 'late is raised once');

  const missed = await runJob(fx.srv, 'expectations', '--at', '2027-03-28T07:01:00Z');
  assert.deepEqual(missed.actions.map((a) => a.action), ['missed']);
  assert.equal((await status('2027-03-28T07:30:00Z')).state, 'missed');
  assert.equal((await runJob(fx.srv, 'expectations', '--at', '2027-03-28T07:30:00Z')).actions.length, 0, 'missed is raised once');

  const arrived = await receive(at('2027-03-28T08:00:00Z'));
  assert.equal((await status('2027-03-28T07:59:00Z')).state, 'missed', 'as of before it arrived, still missed');
  const recovered = await runJob(fx.srv, 'expectations', '--at', '2027-03-28T08:05:00Z');
  assert.deepEqual(recovered.actions.map((a) => a.action), ['recovered']);
  assert.equal((await runJob(fx.srv, 'expectations', '--at', '2027-03-28T09:00:00Z')).actions.length, 0, 'recovered is raised once');
  // The late file also falls in the period now running (to Monday 07:00 CEST): it meets that one.
  s = await status('2027-03-28T08:05:00Z');
  assert.deepEqual([s.state, s.period.deadline, s.file?.id], ['met', '2027-03-29T05:00:00.000Z', arrived]);

  const events = await expectationEvents();
  assert.deepEqual(events.map((e) => e.type), ['expectation.late', 'expectation.missed', 'expectation.recovered']);
  for (const e of events) assert.deepEqual([e.data.deadline, e.data.periodStart], ['2027-03-28T05:00:00.000Z', '2027-03-27T06:00:00.000Z']);
  assert.equal(events[2].fileId, arrived);
});

test('a file arriving within the grace recovers a late period without it being missed; an incident is acknowledged', async () => {
  // Monday's period ends 07:00 CEST = 05:00 UTC on the 29th; nothing arrives in time.
  assert.equal((await runJob(fx.srv, 'expectations', '--at', '2027-03-29T05:10:00Z')).actions.length, 0, 'met on Sunday: nothing to raise');
  assert.deepEqual((await runJob(fx.srv, 'expectations', '--at', '2027-03-30T05:10:00Z')).actions.map((a) => a.action), ['late']);
  const ack = await fx.srv.cli('expectations', 'ack', 'acme-daily-sal', '--at', '2027-03-30T05:10:00Z', '--by', 'alice', '--json');
  assert.equal(ack.code, 0, ack.stderr);
  assert.deepEqual([(JSON.parse(ack.stdout) as Status).state, (JSON.parse(ack.stdout) as Status).acknowledged?.by], ['late', 'alice']);
  await receive(at('2027-03-30T06:00:00Z'));
  assert.deepEqual((await runJob(fx.srv, 'expectations', '--at', '2027-03-30T08:00:00Z')).actions.map((a) => a.action), ['recovered'], 'never missed');
  const unknown = await fx.srv.cli('expectations', 'ack', 'nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /FG_EXPECTATION_NOT_FOUND/);
});

test('expectations add / remove edit the config file, keep its comments, and refuse what would make it invalid', async () => {
  const file = fx.srv.configFile;
  appendFileSync(file, '# kept: an operator\'s note\n');
  const added = await fx.srv.cli('expectations', 'add', 'globex-weekly', '--account', 'globex', '--flux', 'usr', '--schedule', '0 9 * * 1', '--timezone', 'Europe/Paris', '--grace', '1d', '--json');
  assert.equal(added.code, 0, added.stderr);
  assert.match((JSON.parse(added.stdout) as { note: string }).note, /restart/);
  const listed = JSON.parse((await fx.srv.cli('expectations', 'list', '--json')).stdout) as Array<{ name: string; grace: string; timezone: string }>;
  assert.deepEqual(listed.map((e) => [e.name, e.timezone, e.grace]), [['acme-daily-sal', 'Europe/Paris', '2h'], ['globex-weekly', 'Europe/Paris', '1d']]);
  assert.match(readFileSync(file, 'utf8'), /# kept: an operator's note/);

  const before = readFileSync(file, 'utf8');
  const invalid = await fx.srv.cli('expectations', 'add', 'broken', '--account', 'acme', '--flux', 'sal', '--schedule', 'every morning');
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /would make .* invalid, so it was not made: .*expectations\.2\.schedule: not a valid cron expression.*\[FG_CONFIG\]/);
  assert.equal(readFileSync(file, 'utf8'), before, 'the file is left as it was');
  const twice = await fx.srv.cli('expectations', 'add', 'globex-weekly', '--account', 'globex', '--flux', 'usr', '--schedule', '0 9 * * 1');
  assert.match(twice.stderr, /FG_EXPECTATION_EXISTS/);

  assert.equal((await fx.srv.cli('expectations', 'remove', 'globex-weekly')).code, 0);
  const after = JSON.parse((await fx.srv.cli('expectations', 'list', '--json')).stdout) as Array<{ name: string }>;
  assert.deepEqual(after.map((e) => e.name), ['acme-daily-sal']);
  assert.match((await fx.srv.cli('expectations', 'remove', 'globex-weekly')).stderr, /FG_EXPECTATION_NOT_FOUND/);
});
