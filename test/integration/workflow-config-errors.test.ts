import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUILTIN_HANDLERS } from '../../plugins';
import { fileJobs, workflowRouting } from '../../core/composition/engine';
import { pluginContainer } from '../../core/composition/plugins';
import { DataPaths } from '../../core/config/paths';
import { Intake } from '../../core/intake/intake';
import { silentLogger } from '../../core/logging/logger';
import { ServerKeyStore } from '../../core/pgp/server-key';
import { DurableQueue } from '../../core/queue/queue';
import { SqliteAccountRepository } from '../../core/store/sqlite-account-repository';
import { openDatabase, type Database } from '../../core/store/database';
import { SqliteDirectoryRepository } from '../../core/store/directory-repository';
import { SqliteJournalRepository } from '../../core/store/journal-repository';
import { SqliteQueueRepository } from '../../core/store/queue-repository';
import { HandlerRegistry } from '../../core/workflow/handler-registry';
import { StepRegistry, WorkflowRegistry } from '../../core/workflow/registry';
import { WorkflowRunner } from '../../core/workflow/runner';
import { BUILTIN_STEPS } from '../../core/workflow/steps';
import { makeKey } from '../helpers/keys';
import { loadedConfigFor } from '../helpers/pgp-gpg';
import { skipUnless } from '../helpers/tools';
import { accountServiceOn } from '../helpers/accounts';

/**
 * A handler missing at run time is a configuration error: dead at once, never retried
 * (docs/engine.md). The server refuses such workflows when it loads them, so the engine is
 * assembled here from its real parts (SQLite journal and queue, intake, file system, handler
 * registry) around a workflow registry that was not checked against the handlers.
 */
describe('workflow runner: configuration errors', { skip: skipUnless('ssh-keygen') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cfgerr-'));
  const paths = new DataPaths(join(dir, 'var'));
  const loaded = loadedConfigFor(paths.root);
  let db: Database;
  let journal: SqliteJournalRepository;
  let intake: Intake;
  let runner: WorkflowRunner;

  before(async () => {
    const workflowsDir = join(dir, 'workflows');
    mkdirSync(workflowsDir);
    const steps = '[receipt, check-name, decrypt, handler, report, archive]';
    writeFileSync(join(workflowsDir, 'gone.yaml'), `flux: gone\nhandler: nosuchplugin\nnaming: { extensions: [csv] }\nsteps: ${steps}\n`);
    writeFileSync(join(workflowsDir, 'wrong.yaml'), `flux: wrong\nhandler: dropbox\nnaming: { extensions: [csv] }\nsteps: ${steps}\n`);
    mkdirSync(paths.root, { recursive: true });
    db = openDatabase(paths.database);
    const accounts = new SqliteAccountRepository(db);
    await accountServiceOn(db, paths, loaded.config).create({ id: 'acme', partner: 'acme', publicKey: makeKey().publicKey });
    for (const flux of ['gone', 'wrong']) mkdirSync(join(paths.accountRoot('acme'), 'in', flux));
    journal = new SqliteJournalRepository(db);
    const logger = silentLogger();
    const queue = new DurableQueue(new SqliteQueueRepository(db), loaded.config.engine.retry, logger);
    const workflows = new WorkflowRegistry(workflowsDir, new StepRegistry(BUILTIN_STEPS), logger, false);
    assert.deepEqual(workflows.all.map((w) => w.flux).sort(), ['gone', 'wrong']);
    const handlers = new HandlerRegistry(pluginContainer({ config: loaded.config, logger }));
    for (const cls of BUILTIN_HANDLERS) handlers.register(cls);
    const services = { handlers, directory: new SqliteDirectoryRepository(db), pgpKeys: new ServerKeyStore(paths, loaded, logger) };
    intake = new Intake({ paths, accounts, journal, files: fileJobs(queue, workflows, loaded.config), route: workflowRouting(workflows), logger });
    runner = new WorkflowRunner({ services, journal, accounts, workflows, steps: new StepRegistry(BUILTIN_STEPS), paths, config: loaded.config, logger });
  });
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function receive(flux: string, name: string) {
    const target = join(paths.accountRoot('acme'), 'in', flux, name);
    writeFileSync(`${target}.filepart`, 'a;b\r\n');
    renameSync(`${target}.filepart`, target);
    const entry = await intake.consider('acme', target, 'test');
    assert.ok(entry, 'journaled');
    return entry;
  }

  for (const [flux, expected] of [
    ['gone', /no handler is registered for flux "nosuchplugin"/],
    ['wrong', /handler "dropbox" of workflow "wrong" does not serve exchange accounts/],
  ] as const) {
    test(`${flux}: FG_PLUGIN_NOT_FOUND is dead at its first attempt of five, quarantined and reported`, async () => {
      const name = `ndmat_acme_acme_${flux}_261120090000.csv`;
      const entry = await receive(flux, name);
      const outcome = await runner.process(entry.id, 1, 5, new AbortController().signal);
      assert.equal(outcome.status, 'dead', JSON.stringify(outcome));
      const file = (await journal.get(entry.id))!;
      assert.equal(file.state, 'dead');
      assert.equal(file.outcome?.code, 'FG_PLUGIN_NOT_FOUND');
      assert.match(file.outcome?.summary ?? '', expected);
      assert.ok(file.location.startsWith(paths.quarantine('acme', flux)), file.location);
      const report = readFileSync(join(paths.accountRoot('acme'), 'out', flux, name.replace(/^ndmat_/, 'cdmat_')), 'utf8');
      assert.match(report, /FG_PLUGIN_NOT_FOUND/);
    });
  }
});
