import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { TestServer } from '../helpers/server';

/**
 * An idle server is not woken for nothing (#19: CPU at rest). What it costs at rest is mostly
 * how often its event loop wakes: each wake-up costs a context switch and a turn of the loop
 * whatever it does. Counted here, not timed: the main thread's voluntary context switches
 * (one per sleep of the event loop) over a few seconds at rest, with the pollers' production
 * defaults. Before: prom-client's event-loop-lag monitor woke it every 10 ms (~100/s), the tree
 * scan every 250 ms with one account, the event dispatcher every second without subscriptions.
 */

const LINUX = existsSync('/proc/self/task') ? false : 'needs Linux /proc';
const servers: TestServer[] = [];
after(async () => { for (const s of servers) { await s.stop(); await s.cleanup(); } });

function voluntarySwitches(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)![1]);
}

describe('an idle server', { skip: LINUX }, () => {
  test('wakes its main thread a few times a second at most, not every few milliseconds', async (t) => {
    // The queue's production poll (the test helper's 100 ms would be ten wake-ups a second by itself).
    const server = new TestServer({ config: { engine: { pollIntervalMs: 1000 }, log: { level: 'info' } } });
    servers.push(server);
    await server.start();
    await server.waitForLog((l) => l.msg === 'intake: start-up scan of every account tree done', 30_000);
    await server.waitForLog((l) => l.msg === 'PGP public key published to exchange accounts', 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const pid = server.pid!;
    const windowMs = 6000;
    const before = voluntarySwitches(pid);
    await new Promise((r) => setTimeout(r, windowMs));
    const perSecond = (voluntarySwitches(pid) - before) / (windowMs / 1000);
    t.diagnostic(`${perSecond.toFixed(1)} wake-ups a second`);
    // What is left: the queue's poll and the shared bans' refresh (1/s each), the WAL check (every
    // 4 s while the WAL does not grow; it was 2/s), the scan (a slice every 5 s with one account or
    // none; it was 1/s), the node's heartbeat and the open logins' re-check (every 5 s), and the
    // odd timer of the HTTP and SFTP servers: 2.7-4.0 a second measured, against 4.3-6.5 before.
    assert.ok(perSecond < 5, `the idle server's main thread woke ${perSecond.toFixed(1)} times a second`);
  });
});
