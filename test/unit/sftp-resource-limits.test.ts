import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFluxgateError } from '../../core/errors';
import { ResourceLimits } from '../../core/sftp/limits';
import { HandleTable, OpenFiles } from '../../core/sftp/session/handles';

const settings = {
  connectionsPerAccount: 2, sessionsPerConnection: 2, sessionsPerAccount: 3,
  handlesPerSession: 2, handlesPerAccount: 3, handlesTotal: 4, devFilesPerAccount: 10,
};

test('handle slots: per session, per account, in all; each given back once; nothing kept for an account holding nothing', () => {
  const limits = new ResourceLimits(settings);
  const a1 = new HandleTable(2, new OpenFiles(), { accountId: 'a', limits });
  const a2 = new HandleTable(2, new OpenFiles(), { accountId: 'a', limits });
  const b = new HandleTable(2, new OpenFiles(), { accountId: 'b', limits });
  const held = [a1.reserve(), a1.reserve()];
  assert.throws(() => a1.reserve(), (e) => isFluxgateError(e, 'FG_LIMIT') && e.message === 'too many open handles (limit 2 per session): close some before opening more');
  held.push(a2.reserve());
  assert.throws(() => a2.reserve(), (e) => isFluxgateError(e, 'FG_LIMIT') && e.details.setting === 'sftp.limits.handlesPerAccount');
  held.push(b.reserve());
  assert.throws(() => b.reserve(), (e) => isFluxgateError(e, 'FG_LIMIT') && /^the server has too many open handles \(limit 4 for all accounts\)/.test(e.message));
  assert.equal(limits.openHandles, 4);
  held[0].release();
  held[0].release();
  assert.equal(limits.openHandles, 3, 'a second release gives nothing back twice');
  held.push(b.reserve());
  for (const slot of held) slot.release();
  assert.equal(limits.openHandles, 0);
  assert.deepEqual(limits.of('a'), { connections: 0, sessions: 0, handles: 0 });
  assert.equal((limits as unknown as { usage: Map<string, unknown> }).usage.size, 0);
});

test('a session that ended takes no more handles: an OPEN finishing late must close its own', () => {
  const table = new HandleTable(2, new OpenFiles());
  table.reserve();
  table.drain();
  assert.throws(() => table.add({ kind: 'dir', path: { virtual: '/', segments: [], real: '/tmp', name: '' }, listed: 0, done: false }),
    (e) => isFluxgateError(e, 'FG_INVALID_VALUE'));
});

test('connections and sessions per account', () => {
  const limits = new ResourceLimits(settings);
  const c1 = limits.connect('a');
  const c2 = limits.connect('a');
  const c3 = limits.connect('a');
  assert.ok('release' in c1 && 'release' in c2);
  assert.ok(!('release' in c3) && c3.message === 'too many connections for account a (limit 2 per account): close one before connecting again');
  const perConnection = limits.openSession('a', 2);
  assert.ok(!('release' in perConnection) && perConnection.details.setting === 'sftp.limits.sessionsPerConnection');
  const sessions = [limits.openSession('a', 0), limits.openSession('a', 1), limits.openSession('a', 0)];
  const fourth = limits.openSession('a', 1);
  assert.ok(!('release' in fourth) && /^too many sessions for account a \(limit 3 per account/.test(fourth.message));
  for (const s of [...sessions, c1, c2]) if ('release' in s) s.release();
  assert.deepEqual(limits.of('a'), { connections: 0, sessions: 0, handles: 0 });
});
