import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileJobs, workflowRouting } from '../../core/composition/engine';
import { DataPaths } from '../../core/config/paths';
import { Intake } from '../../core/intake/intake';
import { uploadIdentity } from '../../core/intake/upload-identity';
import { silentLogger } from '../../core/logging/logger';
import { DurableQueue } from '../../core/queue/queue';
import { openDatabase, type Database } from '../../core/store/database';
import { SqliteStore } from '../../core/store/sqlite-store';
import { StepRegistry, WorkflowRegistry } from '../../core/workflow/registry';
import { BUILTIN_STEPS } from '../../core/workflow/steps';
import { accountServiceOn } from '../helpers/accounts';
import { makeKey } from '../helpers/keys';
import { loadedConfigFor } from '../helpers/pgp-gpg';
import { REPO_ROOT } from '../helpers/server';
import { skipUnless } from '../helpers/tools';

/**
 * One journal entry per upload (issue #20): what identifies an upload, and intake meeting a file
 * the journal already holds. The real Intake on a real SQLite store and file system.
 */
describe('intake: one entry per upload', { skip: skipUnless('ssh-keygen') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-intake-once-'));
  const paths = new DataPaths(join(dir, 'var'));
  const loaded = loadedConfigFor(paths.root);
  const echo = join(paths.accountRoot('acme'), 'in', 'echo');
  let db: Database;
  let store: SqliteStore;
  let intake: Intake;

  before(async () => {
    mkdirSync(paths.root, { recursive: true });
    db = openDatabase(paths.database);
    store = new SqliteStore(db);
    await accountServiceOn(db, paths, loaded.config).create({ id: 'acme', partner: 'acme', publicKey: makeKey().publicKey });
    mkdirSync(echo);
    const logger = silentLogger();
    const workflows = new WorkflowRegistry(join(REPO_ROOT, 'workflows'), new StepRegistry(BUILTIN_STEPS), logger, false);
    const files = fileJobs(new DurableQueue(store.queue, loaded.config.engine.retry, logger), workflows, loaded.config);
    intake = new Intake({ paths, accounts: store.accounts, journal: store.journal, files, route: workflowRouting(workflows), logger });
  });
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the identity of an upload: a rename keeps it, a new file of the same name and bytes has another', () => {
    const path = join(echo, 'ident.csv');
    writeFileSync(`${path}.filepart`, 'same\n');
    const partial = uploadIdentity(statSync(`${path}.filepart`, { bigint: true }));
    renameSync(`${path}.filepart`, path);
    assert.equal(uploadIdentity(statSync(path, { bigint: true })), partial, 'the completing rename keeps it');
    const elsewhere = join(dir, 'moved.csv');
    renameSync(path, elsewhere);
    assert.equal(uploadIdentity(statSync(elsewhere, { bigint: true })), partial, 'a move out of the tree keeps it');
    writeFileSync(`${path}.filepart`, 'same\n');
    renameSync(`${path}.filepart`, path);
    assert.notEqual(uploadIdentity(statSync(path, { bigint: true })), partial, 'a new upload of the same bytes is another file');
    assert.match(partial, /^\d+:\d{10,}:5$/, 'inode, mtime in ns, size');
    rmSync(path);
  });

  test('a file refused at intake that a crash left in the tree (before its move) is quarantined at the next look, not journaled again', async () => {
    const name = 'ndmat_acme_acme_echo_261207110000.csv';
    const path = join(echo, name);
    writeFileSync(path, 'refused\n');
    const identity = uploadIdentity(statSync(path, { bigint: true }));
    // What intake's unit of work wrote before the crash: the row, refused (the account was disabled).
    const refusal = { result: 'rejected' as const, code: 'FG_ACCOUNT_DISABLED', summary: 'account "acme" is disabled' };
    const recorded = (await store.journal.recordUpload({
      accountId: 'acme', profile: 'exchange', flux: 'echo', workflow: 'echo', originalPath: `in/echo/${name}`, name, size: 8,
      sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), location: path, identity,
    }, (file) => ({ topic: 'file.process', payload: { fileId: file.id }, dedupKey: file.id, accountId: 'acme', maxAttempts: 3 }), () => refusal))!;
    assert.equal(recorded.file.state, 'rejected');

    assert.equal(await intake.consider('acme', path, 'scan'), undefined, 'not a new entry');
    const row = (await store.journal.get(recorded.file.id))!;
    assert.equal(row.location, join(paths.quarantine('acme', 'echo'), `${row.id}_${name}`));
    assert.ok(existsSync(row.location), 'kept in quarantine');
    assert.equal(existsSync(path), false, 'out of the account tree');
    assert.deepEqual((await store.journal.events(row.id)).map((e) => e.type), ['received', 'quarantined', 'rejected'], 'its timeline as if nothing had happened');
    assert.equal((await store.journal.list({ q: name })).files.length, 1, 'one entry');
  });
});
