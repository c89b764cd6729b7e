import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { makeKey } from '../helpers/keys';
import { skipUnless } from '../helpers/tools';
import { DAY, isoAt, JobsFixture, runJob } from './jobs-support';

/**
 * `--at` runs are real runs and may go back in time (an operator replaying a date, a simulated
 * series run out of order). A key the job has marked expired stays expired whatever the date of
 * a later run: it must not be warned about as if it were about to expire.
 */
describe('key-expiry job: a run dated before an earlier run (CLI, --at)', { skip: skipUnless('ssh-keygen') }, () => {
  let fx: JobsFixture;
  const T = Date.now();
  let rsa3072 = '';

  before(async () => {
    fx = new JobsFixture({ log: { level: 'info' } });
    const key = makeKey('rsa', 3072); // valid keys.rsaShortValidityDays (730 days)
    await (await fx.accountService()).create({ id: 'acme', publicKey: readFileSync(key.publicPath, 'utf8'), now: T });
    rsa3072 = key.fingerprint;
  });
  after(async () => { await fx.cleanup(); });

  const stored = async () => (await (await fx.store()).store.accounts.findKey('acme', rsa3072))!;
  const warnLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.level === 40 && l.fingerprint === rsa3072);

  test('a key marked expired at day 731 is neither warned about nor expired again by a run at day 701', async () => {
    const first = await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 731 * DAY));
    assert.deepEqual(first.actions.map((a) => [a.action, a.target]), [['expire', rsa3072]]);
    assert.equal((await stored()).expiredAt, T + 731 * DAY);
    assert.equal((await stored()).warnedAt, null, 'never warned: the first run was already past its expiry');

    // Day 701 is inside the 30-day warning window of a key expiring at day 730.
    const earlier = await runJob(fx.srv, 'key-expiry', '--at', isoAt(T + 701 * DAY));
    assert.equal(earlier.outcome, 'ok', JSON.stringify(earlier.errors));
    assert.deepEqual(earlier.actions, [], earlier.stderr);
    assert.equal(earlier.counts.checked, 1, 'the key was looked at');
    assert.deepEqual(warnLines(earlier.stderr), [], 'no "SSH key expires in N day(s)" line');
    assert.equal((await stored()).warnedAt, null);
    assert.equal((await stored()).expiredAt, T + 731 * DAY, 'still marked expired, at the first run\'s date');

    const dry = await runJob(fx.srv, 'key-expiry', '--dry-run', '--at', isoAt(T + 701 * DAY));
    assert.deepEqual(dry.actions, [], 'a dry run would not warn either');
  });
});
