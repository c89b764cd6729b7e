import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUILTIN_HANDLERS } from '../../plugins';
import { fileJobs, workflowRouting } from '../../core/composition/engine';
import { pluginContainer } from '../../core/composition/plugins';
import { DataPaths } from '../../core/config/paths';
import type { FluxgateConfig } from '../../core/config/schema';
import { Intake } from '../../core/intake/intake';
import { silentLogger } from '../../core/logging/logger';
import { signatureNameOf } from '../../core/pgp/names';
import { ServerKeyStore } from '../../core/pgp/server-key';
import type { FileJobs } from '../../core/queue/file-jobs';
import { DurableQueue } from '../../core/queue/queue';
import { SqliteAccountRepository } from '../../core/store/sqlite-account-repository';
import { openDatabase, type Database } from '../../core/store/database';
import { SqliteDirectoryRepository } from '../../core/store/directory-repository';
import { SqliteJournalRepository, type JournalFile } from '../../core/store/journal-repository';
import { SqliteQueueRepository } from '../../core/store/queue-repository';
import { HandlerRegistry } from '../../core/workflow/handler-registry';
import { StepRegistry, WorkflowRegistry } from '../../core/workflow/registry';
import { WorkflowRunner } from '../../core/workflow/runner';
import { BUILTIN_STEPS } from '../../core/workflow/steps';
import { REPO_ROOT } from '../helpers/server';
import { makeKey } from '../helpers/keys';
import { loadedConfigFor } from '../helpers/pgp-gpg';
import { skipUnless } from '../helpers/tools';
import { accountServiceOn } from '../helpers/accounts';

/**
 * Files of one account run one at a time; a file whose outputs are still being signed hands the
 * account's turn to the next one and is finished (processed, archived) only once its signatures
 * exist; a signature that then fails runs the file again through a job of its own. The engine's
 * real parts (SQLite journal and queue, intake, the echo handler, the file system), with a signer
 * the test holds or fails, so that nothing depends on timing.
 */
describe('workflow runner: signatures finish in the background', { skip: skipUnless('ssh-keygen') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-signoff-'));
  const paths = new DataPaths(join(dir, 'var'));
  const loaded = loadedConfigFor(paths.root);
  let db: Database;
  let journal: SqliteJournalRepository;
  let intake: Intake;
  let files: FileJobs;
  let queue: DurableQueue;
  // Signs when the test says so: writes `<output>.sig`, or fails.
  const signer = { next: [] as Array<{ path: string; settle: (err?: Error) => void }>, sign(path: string): Promise<void> {
    return new Promise<void>((resolve, reject) => signer.next.push({ path, settle: (err) => {
      if (err) return reject(err);
      writeFileSync(signatureNameOf(path), 'signature');
      resolve();
    } }));
  } };
  const requeued: JournalFile[] = [];
  let runner: WorkflowRunner;
  let runnerOn: (config: FluxgateConfig) => WorkflowRunner;
  let n = 0;

  before(async () => {
    const workflowsDir = join(dir, 'workflows');
    mkdirSync(workflowsDir);
    copyFileSync(join(REPO_ROOT, 'workflows', 'echo.yaml'), join(workflowsDir, 'echo.yaml'));
    mkdirSync(paths.root, { recursive: true });
    db = openDatabase(paths.database);
    const accounts = new SqliteAccountRepository(db);
    await accountServiceOn(db, paths, loaded.config).create({ id: 'acme', partner: 'acme', publicKey: makeKey().publicKey });
    mkdirSync(join(paths.accountRoot('acme'), 'in', 'echo'));
    journal = new SqliteJournalRepository(db);
    const logger = silentLogger();
    queue = new DurableQueue(new SqliteQueueRepository(db), loaded.config.engine.retry, logger);
    const workflows = new WorkflowRegistry(workflowsDir, new StepRegistry(BUILTIN_STEPS), logger, false);
    const handlers = new HandlerRegistry(pluginContainer({ config: loaded.config, logger }));
    for (const cls of BUILTIN_HANDLERS) handlers.register(cls);
    files = fileJobs(queue, workflows, loaded.config);
    const services = { handlers, directory: new SqliteDirectoryRepository(db), pgpKeys: new ServerKeyStore(paths, loaded, logger), signer };
    intake = new Intake({ paths, accounts, journal, files, route: workflowRouting(workflows), logger });
    runnerOn = (config) => new WorkflowRunner({
      services, journal, accounts, workflows, steps: new StepRegistry(BUILTIN_STEPS), paths, config, logger,
      requeue: (file) => { requeued.push(file); return files.enqueue(file); },
    });
    runner = runnerOn(loaded.config);
  });
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function receive(): Promise<JournalFile> {
    const name = `ndmat_acme_acme_echo_2612070${String(++n).padStart(5, '0')}.csv`;
    const target = join(paths.accountRoot('acme'), 'in', 'echo', name);
    writeFileSync(`${target}.filepart`, 'line 1\r\nline 2\r\n');
    renameSync(`${target}.filepart`, target);
    const entry = await intake.consider('acme', target, 'test');
    assert.ok(entry, 'journaled');
    return entry;
  }

  const until = async (what: string, check: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(check(), what);
  };

  test('the job is done once the data is applied; the file is processed and archived only once its receipt and report are signed', async () => {
    const entry = await receive();
    const outcome = await runner.process(entry.id, 1, 3, new AbortController().signal);
    assert.deepEqual(outcome, { status: 'done' });
    // The account's next file may start now; this one waits for its two signatures.
    assert.equal(signer.next.length, 2, 'receipt and report signatures asked for');
    assert.equal((await journal.get(entry.id))!.state, 'processing', 'not processed before its outputs are signed');
    signer.next.shift()!.settle();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await journal.get(entry.id))!.state, 'processing', 'one signature is not enough');
    signer.next.shift()!.settle();
    await runner.drain();
    const done = (await journal.get(entry.id))!;
    assert.equal(done.state, 'processed');
    assert.ok(done.location.startsWith(paths.archive('acme', 'echo')), done.location);
    assert.equal(existsSync(entry.location), false);
    assert.deepEqual(requeued, []);
  });

  test('a signature that fails after the hand-off runs the file again through a new job, which signs what is unsigned', async () => {
    const entry = await receive();
    assert.deepEqual(await runner.process(entry.id, 1, 3, new AbortController().signal), { status: 'done' });
    await until('two signatures asked for', () => signer.next.length === 2);
    const [receipt, report] = signer.next.splice(0);
    assert.match(receipt.path, /out\/tra\/cdmat_acme_tra_echo_\d+\.xml$/);
    receipt.settle(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    report.settle();
    await runner.drain();
    assert.deepEqual(requeued.map((f) => f.id), [entry.id]);
    assert.equal((await journal.get(entry.id))!.state, 'processing', 'not processed with an unsigned receipt');
    assert.ok(existsSync((await journal.get(entry.id))!.location), 'the input is kept (archived by its step), for the run again');
    const job = (await queue.repo.list({ topic: 'file.process' })).find((j) => j.dedupKey === entry.id && j.state === 'ready');
    assert.ok(job, 'a job runs it again');

    // The run again: the receipt (written before) is signed now, the report written and signed again.
    const again = runner.process(entry.id, 1, 3, new AbortController().signal);
    await until('signatures of the second run asked for', () => signer.next.length === 2);
    assert.deepEqual(signer.next.map((s) => s.path), [receipt.path, report.path]);
    for (const s of signer.next.splice(0)) s.settle();
    assert.deepEqual(await again, { status: 'done' });
    await runner.drain();
    assert.equal((await journal.get(entry.id))!.state, 'processed');
    assert.ok(existsSync(signatureNameOf(receipt.path)), 'the receipt is signed');
    assert.equal((await journal.events(entry.id)).filter((e) => e.type === 'processed').length, 1);
  });

  test('several nodes (store.url): no hand-off, the delivery (and its lease) ends only once the file is processed', async () => {
    const clustered = runnerOn({ ...loaded.config, store: { ...loaded.config.store, url: 'postgres://fluxgate@127.0.0.1:5432/fluxgate' } });
    const entry = await receive();
    let ended = false;
    const outcome = clustered.process(entry.id, 1, 3, new AbortController().signal).finally(() => { ended = true; });
    await until('two signatures asked for', () => signer.next.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(ended, false, 'the job is not done while its outputs are unsigned: a node dying now leaves its lease to run out');
    for (const s of signer.next.splice(0)) s.settle();
    assert.deepEqual(await outcome, { status: 'done' });
    assert.equal((await journal.get(entry.id))!.state, 'processed', 'processed when its delivery ends, under its lease');
    assert.deepEqual(requeued.filter((f) => f.id === entry.id), []);
  });
});
