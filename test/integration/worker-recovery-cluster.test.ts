import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe } from 'node:test';
import { parseConfig } from '../../core/config/load';
import { silentLogger } from '../../core/logging/logger';
import { FileJobs } from '../../core/queue/file-jobs';
import { DurableQueue } from '../../core/queue/queue';
import type { NewJournalFile } from '../../core/store/journal-types';
import { FILE_PROCESS_TOPIC, type Job } from '../../core/store/ports/queue';
import type { Store } from '../../core/store/ports/store';
import type { WorkflowRunner } from '../../core/workflow/runner';
import { WorkflowWorkers } from '../../core/workflow/worker-service';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';

// The workflow workers' start-up recovery on a store several nodes share (store.url): the
// starting node takes back what this host's dead processes held and leaves a live node's work.
const upload = (name: string): NewJournalFile => ({
  accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: `in/sal/${name}`, name, size: 3,
  sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: `/data/sftp/acme/in/sal/${name}`,
});

/** A file being processed under a lease recorded as held by (pid, host). */
async function processing(e: EngineUnderTest, name: string, holder: { pid: number; host: string }): Promise<{ fileId: string; job: Job }> {
  const file = (await e.store.journal.insert(upload(name), 1_000))!;
  const { job } = await e.store.queue.insert({ topic: FILE_PROCESS_TOPIC, payload: { fileId: file.id }, dedupKey: file.id, accountId: 'acme', maxAttempts: 5 });
  await e.sql(`UPDATE queue SET state = 'leased', attempts = 1, lease_until = ?, leased_pid = ?, leased_host = ? WHERE id = ?`,
    [Date.now() + 600_000, holder.pid, holder.host, job.id]);
  await e.sql(`UPDATE files SET state = 'processing', attempts = 1 WHERE id = ?`, [file.id]);
  return { fileId: file.id, job };
}

/** Starts and stops a node's workflow workers on `store`: what they did at start stays in the store. */
async function startAndStopWorkers(store: Store, storeUrl: string): Promise<void> {
  const config = parseConfig({ store: { url: storeUrl } });
  const files = new FileJobs(new DurableQueue(store.queue, config.engine.retry, silentLogger()), () => 5);
  // Only the start-up recovery is under test: a delivery right after it is put back untouched.
  const runner = { process: () => Promise.resolve({ status: 'postpone', error: 'not under test' }), drain: () => Promise.resolve() } as unknown as WorkflowRunner;
  const workers = new WorkflowWorkers(files, runner, store.journal, config, silentLogger());
  await workers.start();
  await workers.stop();
}

describe('workflow workers: start-up recovery on a shared store', () => {
  bothEngines('a node starting takes the work of this host\'s dead processes and leaves a live node\'s and another host\'s', async (e) => {
    const live = await processing(e, 'live.csv', { pid: process.ppid, host: hostname() });
    const remote = await processing(e, 'remote.csv', { pid: 12345, host: 'node-a.invalid' });
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const dead = await processing(e, 'dead.csv', { pid: deadPid, host: hostname() });

    await startAndStopWorkers(await e.another(), 'postgres://fluxgate@127.0.0.1:5432/fluxgate');

    for (const { fileId, job } of [live, remote]) {
      const now = (await e.store.queue.get(job.id))!;
      assert.deepEqual([now.state, now.attempts], ['leased', 1], 'its lease untouched');
      assert.equal((await e.store.journal.get(fileId))!.state, 'processing', 'its file untouched');
    }
    const types = (await e.store.journal.events(dead.fileId)).map((ev) => ev.type);
    assert.ok(types.includes('interrupted'), `the dead holder's attempt is recorded as interrupted (${types.join(', ')})`);
    // Taken back: ready again, or claimed since by this process's workers (and put back).
    const [job] = await e.sql<{ state: string; leased_pid: number | null }>('SELECT state, leased_pid FROM queue WHERE id = ?', [dead.job.id]);
    assert.ok(job.state === 'ready' || job.leased_pid === process.pid, `its lease was taken back (${job.state}, pid ${job.leased_pid})`);
  }, ['postgres']);
});
