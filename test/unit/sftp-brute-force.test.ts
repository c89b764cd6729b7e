import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BruteForceGuard } from '../../core/sftp/brute-force';
import { serverAlgorithms } from '../../core/sftp/algorithms';
import { SFTP_ALGORITHMS } from '../../core/config/schema';

test('brute-force guard: bans after maxFailures within the window, for banSeconds; old failures expire', () => {
  let now = 1_000_000;
  const guard = new BruteForceGuard({ maxFailures: 3, windowSeconds: 60, banSeconds: 600 }, () => now);
  assert.equal(guard.fail('192.0.2.1'), undefined);
  now += 61_000; // the first failure leaves the window
  assert.equal(guard.fail('192.0.2.1'), undefined);
  assert.equal(guard.fail('192.0.2.1'), undefined);
  const until = guard.fail('::ffff:192.0.2.1'); // same address, IPv4-mapped
  assert.equal(until, now + 600_000);
  assert.equal(guard.bannedUntil('192.0.2.1'), until);
  assert.equal(guard.bannedUntil('192.0.2.2'), undefined);
  now = until + 1;
  assert.equal(guard.bannedUntil('192.0.2.1'), undefined, 'the ban ends');
});

test('brute-force guard: a successful login clears only that user\'s failures from that address', () => {
  const guard = new BruteForceGuard({ maxFailures: 5, windowSeconds: 60, banSeconds: 60 });
  // The audit's pattern: wrong passwords for acme2, a good login to acme after every few.
  let until: number | undefined;
  for (let i = 1; i <= 12 && !until; i++) {
    until = guard.fail('198.51.100.7', 'acme2');
    if (i % 4 === 0) guard.succeed('198.51.100.7', 'acme');
  }
  assert.ok(until, 'banned: logins to acme do not clear failures against acme2');
  assert.ok(guard.bannedUntil('198.51.100.7'));

  // A client that mistyped and then got in has its own failures cleared, from that address only.
  guard.fail('198.51.100.8', 'acme');
  guard.fail('198.51.100.8', 'acme');
  guard.fail('198.51.100.8', 'other');
  guard.fail('198.51.100.9', 'acme');
  guard.succeed('198.51.100.8', 'acme');
  assert.equal(guard.failureCount('198.51.100.8'), 1);
  assert.equal(guard.failureCount('198.51.100.9'), 1);
});

test('algorithms: the default lists are offered exactly; what ssh2 cannot serve is dropped and reported', () => {
  const defaults = {
    kex: [...SFTP_ALGORITHMS.kex], serverHostKey: [...SFTP_ALGORITHMS.serverHostKey], cipher: [...SFTP_ALGORITHMS.cipher],
    hmac: [...SFTP_ALGORITHMS.hmac], compress: [...SFTP_ALGORITHMS.compress],
  };
  const { algorithms, dropped } = serverAlgorithms(defaults);
  assert.deepEqual(dropped, []);
  assert.deepEqual(algorithms.kex, defaults.kex);
  assert.deepEqual(algorithms.cipher, defaults.cipher);
  const widened = serverAlgorithms({ ...defaults, kex: ['sntrup761x25519-sha512@openssh.com', 'diffie-hellman-group-exchange-sha256', 'curve25519-sha256'] });
  assert.deepEqual(widened.algorithms.kex, ['curve25519-sha256']);
  assert.deepEqual(widened.dropped, ['sntrup761x25519-sha512@openssh.com', 'diffie-hellman-group-exchange-sha256']);
});

test('brute-force guard: attempts being decided count, so parallel guesses stop at maxFailures; parallel logins only wait', async () => {
  const guard = new BruteForceGuard({ maxFailures: 3, windowSeconds: 60, banSeconds: 600 });
  const order: string[] = [];
  // 6 guesses at once (6 connections): 3 are decided, the others wait for their outcome.
  const attempts = Array.from({ length: 6 }, (_, i) => guard.admit('192.0.2.7').then((done) => { order.push(`${i}:${done ? 'admitted' : 'banned'}`); return done; }));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['0:admitted', '1:admitted', '2:admitted']);
  const first = await Promise.all(attempts.slice(0, 3));
  // The three are wrong: the third failure bans, and the waiting three are never decided.
  for (const done of first) {
    guard.fail('192.0.2.7', 'victim');
    done!();
  }
  assert.deepEqual(await Promise.all(attempts.slice(3)), [undefined, undefined, undefined]);
  assert.ok(guard.bannedUntil('192.0.2.7'));
  assert.deepEqual(order.slice(3), ['3:banned', '4:banned', '5:banned']);

  // Parallel logins that succeed: each waits only for room, and all get through.
  const ok = new BruteForceGuard({ maxFailures: 2, windowSeconds: 60, banSeconds: 600 });
  let decided = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    const done = await ok.admit('192.0.2.8');
    assert.ok(done);
    await new Promise((r) => setTimeout(r, 5));
    ok.succeed('192.0.2.8', 'acme');
    decided++;
    done();
  }));
  assert.equal(decided, 8);
  // One failure leaves room for one attempt in flight at a time, not two.
  ok.fail('192.0.2.8', 'acme');
  const a = await ok.admit('192.0.2.8');
  let second = false;
  const b = ok.admit('192.0.2.8').then((done) => { second = true; return done; });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(second, false, 'waits while the first is being decided');
  a!();
  assert.ok(await b);
});
