import { strict as assert } from 'node:assert';
import { existsSync, linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { fileJobs, workflowRouting } from '../../core/composition/engine';
import { DataPaths } from '../../core/config/paths';
import { Intake } from '../../core/intake/intake';
import { uploadIdentity } from '../../core/intake/upload-identity';
import { DurableQueue } from '../../core/queue/queue';
import { openDatabase, type Database } from '../../core/store/database';
import { SqliteStore } from '../../core/store/sqlite-store';
import { StepRegistry, WorkflowRegistry } from '../../core/workflow/registry';
import { archiveDestination, moveInput } from '../../core/workflow/input-moves';
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
  const logs: Array<Record<string, unknown>> = [];

  before(async () => {
    mkdirSync(paths.root, { recursive: true });
    db = openDatabase(paths.database);
    store = new SqliteStore(db);
    await accountServiceOn(db, paths, loaded.config).create({ id: 'acme', partner: 'acme', publicKey: makeKey().publicKey });
    mkdirSync(echo);
    const logger = pino({ level: 'debug' }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });
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

  test('a processed file hard-linked back into in/ is not taken in twice: one FG_ALREADY_JOURNALED warning, however many looks', async () => {
    const name = 'ndmat_acme_acme_echo_261207110100.csv';
    const path = join(echo, name);
    writeFileSync(`${path}.filepart`, 'linked\n');
    renameSync(`${path}.filepart`, path);
    const entry = (await intake.consider('acme', path, 'scan'))!;
    assert.equal(entry.state, 'received');
    // What the engine does with it: archived, then processed.
    const archived = await moveInput(store.journal, entry, archiveDestination(paths, entry), 'archived');
    await store.journal.finish(entry.id, 'processed', { result: 'processed' });
    linkSync(archived.location, path); // the same file under both names (nlink 2): not a stale view of a move
    for (let look = 0; look < 3; look++) assert.equal(await intake.consider('acme', path, 'scan'), undefined);
    const warnings = logs.filter((l) => l.code === 'FG_ALREADY_JOURNALED');
    assert.equal(warnings.length, 1, 'warned once');
    assert.equal(warnings[0].fileId, entry.id);
    assert.match(String(warnings[0].msg), new RegExp(`move it back to ${archived.location.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} and run \`fluxgate replay ${entry.id}\``));
    assert.equal((await store.journal.list({ q: name })).files.length, 1, 'one entry');
    assert.ok(existsSync(path), 'left where it is');
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
    // Just finished: the node that refused it may be moving it right now; it is left to that node.
    assert.equal(await intake.consider('acme', path, 'scan'), undefined, 'not a new entry');
    assert.ok(existsSync(path), 'left to the node finishing it');
    await store.journal.update(recorded.file.id, {}, Date.now() - 61_000); // the crash was a minute ago

    assert.equal(await intake.consider('acme', path, 'scan'), undefined, 'not a new entry');
    const row = (await store.journal.get(recorded.file.id))!;
    assert.equal(row.location, join(paths.quarantine('acme', 'echo'), `${row.id}_${name}`));
    assert.ok(existsSync(row.location), 'kept in quarantine');
    assert.equal(existsSync(path), false, 'out of the account tree');
    assert.deepEqual((await store.journal.events(row.id)).map((e) => e.type), ['received', 'quarantined', 'rejected'], 'its timeline as if nothing had happened');
    assert.equal((await store.journal.list({ q: name })).files.length, 1, 'one entry');
  });
});
