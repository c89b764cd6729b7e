/**
 * core/sftp/session/context.ts WriteGate: the socket of a session stops being read past
 * sftp.maxInflightWrites requests or INFLIGHT_WRITE_BYTES bytes not yet on disk, and is read
 * again once both are back to half.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INFLIGHT_WRITE_BYTES, WriteGate } from '../../core/sftp/session/context';

const KiB = 1024;

function gate(maxRequests: number): { gate: WriteGate; events: string[] } {
  const events: string[] = [];
  return { gate: new WriteGate(maxRequests, () => events.push('pause'), () => events.push('resume')), events };
}

test('255 KiB writes (OpenSSH with limits@openssh.com) pause the socket at INFLIGHT_WRITE_BYTES, long before 64 requests', () => {
  assert.equal(INFLIGHT_WRITE_BYTES, 4 * 1024 * KiB);
  const { gate: g, events } = gate(64);
  let requests = 0;
  while (events.length === 0) { g.acquire(1, 255 * KiB); requests++; }
  assert.deepEqual(events, ['pause']);
  assert.equal(requests, Math.ceil(INFLIGHT_WRITE_BYTES / (255 * KiB)));
  // Read again only once at most half the bytes are still in flight.
  g.release(requests - 9, (requests - 9) * 255 * KiB);
  assert.deepEqual(events, ['pause'], '9 x 255 KiB is more than half of 4 MiB');
  g.release(1, 255 * KiB);
  assert.deepEqual(events, ['pause', 'resume']);
});

test('small writes are still bounded by their number', () => {
  const { gate: g, events } = gate(64);
  for (let i = 0; i < 63; i++) g.acquire(1, 4 * KiB);
  assert.deepEqual(events, []);
  g.acquire(1, 4 * KiB);
  assert.deepEqual(events, ['pause']);
  g.release(31, 31 * 4 * KiB);
  assert.deepEqual(events, ['pause']);
  g.release(1, 4 * KiB);
  assert.deepEqual(events, ['pause', 'resume']);
});
