import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkedSandboxTimings } from '../../core/sandbox/run-timings';

// The sandbox's own timings go into the journal (its `sandbox` event): it is not trusted, so only
// plausible numbers of milliseconds are kept, rounded, and nothing but the known fields.
test('the sandbox\'s timings keep only its known fields, as whole milliseconds from 0 to a day', () => {
  assert.deepEqual(checkedSandboxTimings({ startMs: 12.4, connectMs: 0, handlerMs: 2500.6, waitMs: 300, cpuMs: 1800.2, gcMs: 90 }),
    { startMs: 12, connectMs: 0, handlerMs: 2501, waitMs: 300, cpuMs: 1800, gcMs: 90 });
  assert.deepEqual(checkedSandboxTimings({
    startMs: '12', connectMs: -1, handlerMs: Infinity, waitMs: NaN, cpuMs: 1e12, gcMs: { valueOf: () => 3 }, extra: 5, __proto__: { gcMs: 1 },
  }), {});
  assert.equal(checkedSandboxTimings('fast'), undefined);
  assert.equal(checkedSandboxTimings(null), undefined);
});
