import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRecords } from '../../core/records';
import { backgroundNice } from '../../core/thread-priority';
import { threadNiceValues } from '../helpers/threads';
import { until } from '../helpers/wait';

// Its own process: no other test has started the parse worker here. The worker is the one
// thread of this process at backgroundNice (it lowers its own priority when it starts).
const SIR = join(__dirname, '..', 'fixtures', 'exchange', 'ndmat_acme_acme_sir_hrmanager_v6_261120090000.csv');
const options = { dialect: 'exchange' as const, required: ['organization_code', 'name'] };
const parseThreadRunning = () => [...threadNiceValues().values()].includes(backgroundNice(threadNiceValues().get(process.pid)!));

async function readAll(tuning: { parseThreadMinBytes?: number }): Promise<number> {
  let n = 0;
  for await (const _ of readRecords(SIR, options, undefined, tuning)) n++;
  return n;
}

test('a small file read on this thread starts the parse thread for the big files that follow, only if big files use it', async () => {
  // Without a threshold (CLI tools, tests) no file uses the thread: it is not started.
  assert.equal(await readAll({}), 7);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(parseThreadRunning(), false);
  // With the engine's threshold the small file is still read here, and the thread starts beside it.
  assert.equal(await readAll({ parseThreadMinBytes: 4 * 1024 * 1024 }), 7);
  await until('the parse thread is started', parseThreadRunning);
});
