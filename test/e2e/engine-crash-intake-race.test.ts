import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileJobs, workflowRouting } from '../../core/composition/engine';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import { Intake } from '../../core/intake/intake';
import { silentLogger } from '../../core/logging/logger';
import { DurableQueue } from '../../core/queue/queue';
import type { JournalRepository } from '../../core/store/ports/journal';
import { StepRegistry, WorkflowRegistry } from '../../core/workflow/registry';
import { BUILTIN_STEPS } from '../../core/workflow/steps';
import { sftpBatch } from '../helpers/clients';
import { TestServer } from '../helpers/server';
import { openTestStore, type TestStore } from '../helpers/test-store';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';
import { createAccount, JournalProbe } from './engine-support';

/**
 * Issue #20: a file whose final rename succeeded ends in exactly one journal entry, whichever
 * node records it. Node A is a real server (its tree scan every second); node B is the real
 * Intake of a second process on the same data directory and store (this test's: two `serve`
 * processes cannot share one yet), whose scan found each file first and digested it, then was
 * slow: it records only once A has recorded, processed and archived the file (the race of
 * docs/engine.md, "One entry per upload"). The files arrive as from a node that died between
 * the completing rename and its record: in the tree, announced to no one.
 */
const CONFIG = { pgp: { signReports: false }, engine: { scanIntervalSeconds: 1 } };
const FILES = 12;

describe('one journal entry per upload across nodes: a slow scan of another node records nothing twice', { skip: skipUnless('sftp', 'ssh-keygen') }, () => {
  let server: TestServer | undefined;
  let nodeB: TestStore | undefined;
  after(async () => {
    await nodeB?.close();
    await server?.cleanup();
  });

  test('node B digests each file before node A records it, and records after A archived it: one entry, receipt and report per file; a re-upload of the same bytes is a new entry; a file moved back is not taken twice', async () => {
    server = new TestServer({ config: CONFIG });
    const key = await createAccount(server, 'acme');
    const paths = new DataPaths(server.dataDir);
    const echo = join(paths.accountRoot('acme'), 'in', 'echo');
    mkdirSync(echo);
    await server.start();
    const probe = new JournalProbe(server);
    // Node B: the real Intake on the same data directory and database.
    const logger = silentLogger();
    const config = loadConfig({ configFile: server.configFile });
    // A connection of its own to the server's store (either engine), as a second process has.
    nodeB = await openTestStore(server.dataDir);
    const { store } = nodeB;
    const workflows = new WorkflowRegistry(config.workflowsDir, new StepRegistry(BUILTIN_STEPS), logger, false);
    let recordedAfterA = 0;
    // B is slow between its digest and its record: it records once A has finished the file.
    const slowJournal = new Proxy(store.journal, {
      get(target, prop) {
        if (prop === 'recordUpload') {
          return async (...args: Parameters<JournalRepository['recordUpload']>) => {
            const name = args[0].name;
            await until(`node A finished ${name}`, async () => (await probe.byName(name)).some((f) => f.state === 'processed' && !existsSync(args[0].location)), 30_000, 25);
            recordedAfterA++;
            return target.recordUpload(...args);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const files = fileJobs(new DurableQueue(store.queue, config.config.engine.retry, logger), workflows, config.config);
    const intakeB = new Intake({ paths, accounts: store.accounts, journal: slowJournal, files, route: workflowRouting(workflows), logger });

    // Each file completes by a rename, as an upload does, and is announced to no one; B's scan is there first.
    const names = Array.from({ length: FILES }, (_, i) => `ndmat_acme_acme_echo_2612071000${String(i).padStart(2, '0')}.csv`);
    const dropped = Date.now();
    const considered = names.map((name, i) => {
      writeFileSync(join(echo, `${name}.filepart`), `row-${i}\n`);
      renameSync(join(echo, `${name}.filepart`), join(echo, name));
      return intakeB.consider('acme', join(echo, name), 'scan');
    });
    const byB = await Promise.all(considered);
    assert.equal(recordedAfterA, FILES, 'B reached its record after A had archived every file (the race was run)');
    assert.deepEqual(byB.filter((f) => f !== undefined).map((f) => `${f.id} ${f.originalPath}`), [], 'B recorded nothing');

    // Let A's workers run anything B might have queued, then count.
    await new Promise((r) => setTimeout(r, 1500));
    for (const name of names) {
      const entries = (await probe.byName(name));
      assert.equal(entries.length, 1, `${name}: exactly one journal entry, found ${JSON.stringify(entries.map((f) => [f.id, f.state, f.outcome?.code]))}`);
      assert.equal(entries[0].state, 'processed', JSON.stringify(entries[0].outcome));
      assert.equal((await probe.events(entries[0].id)).filter((e) => e.type === 'received').length, 1);
      await server.waitForLog((l) => l.msg === 'file received' && l.fileId === entries[0].id && l.via === 'scan', 5000);
      // Found by A's scan within its interval (1 s) plus the second a file must stay unchanged, plus slack for a loaded machine.
      assert.ok(entries[0].receivedAt - dropped < 1000 + 1000 + 3000, `${name} found ${entries[0].receivedAt - dropped} ms after it was dropped`);
    }
    assert.deepEqual(readdirSync(echo), [], 'nothing left in in/');
    assert.equal(readdirSync(join(paths.archive('acme', 'echo'))).length, FILES, 'one archived copy each');
    const receipts = readdirSync(join(paths.accountRoot('acme'), 'out', 'tra')).filter((n) => n.endsWith('.xml'));
    assert.equal(receipts.length, FILES, receipts.join(', '));
    const reports = readdirSync(join(paths.accountRoot('acme'), 'out', 'echo')).filter((n) => !n.startsWith('.'));
    assert.deepEqual(reports.sort(), names.map((n) => n.replace('ndmat_', 'cdmat_')).sort());
    for (const name of names) assert.ok(existsSync(join(paths.root, 'vault', 'acme', 'echo', `${(await probe.byName(name))[0].id}.json`)), 'applied');

    // The same name and the same bytes uploaded again over SFTP: a new file, so a new entry.
    const again = names[0];
    writeFileSync(join(server.dir, again), readFileSync(join(paths.archive('acme', 'echo'), `${(await probe.byName(again))[0].id}_${again}`)));
    const put = await sftpBatch(server.port, 'acme', key.privatePath, [`put ${join(server.dir, again)} in/echo/`]);
    assert.equal(put.code, 0, put.stderr);
    await until(`the second upload of ${again} is processed`, async () => (await probe.byName(again)).filter((f) => f.state === 'processed').length === 2, 20_000);
    const [first, second] = (await probe.byName(again));
    assert.equal(second.sha256, first.sha256, 'the same bytes');
    assert.notEqual(second.id, first.id);
    assert.notEqual(second.client, null, 'announced by the SFTP server');

    // A processed file moved back into in/ (mv keeps its inode and mtime) is the same upload:
    // not taken in twice, left where it is, said once (not at every look of the scan).
    const back = names[1];
    const [archived] = (await probe.byName(back));
    renameSync(archived.location, join(echo, back));
    const warned = (l: Record<string, unknown>) => l.code === 'FG_ALREADY_JOURNALED' && l.fileId === archived.id;
    await server.waitForLog(warned, 10_000);
    await new Promise((r) => setTimeout(r, 2500)); // two more looks of the scan
    assert.equal(server.logs.filter(warned).length, 1, 'warned once');
    assert.match(String(server.logs.find(warned)!.msg), new RegExp(`fluxgate replay ${archived.id}`));
    assert.equal((await probe.byName(back)).length, 1, 'still one entry');
    assert.ok(existsSync(join(echo, back)), 'left where it is');
  });
});
