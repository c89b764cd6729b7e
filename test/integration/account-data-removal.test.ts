import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hashExport } from '../../core/accounts/removal-export';
import { totalRows } from '../../core/store/account-data-repository';
import { openDatabase } from '../../core/store/database';
import type { AccountSections } from '../../core/store/ports/account-data';
import { SqliteStore } from '../../core/store/sqlite-store';

const dir = mkdtempSync(join(tmpdir(), 'fg-account-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A store with account acme, one journal file and its queue job. */
async function storeWithAccount(name: string): Promise<{ store: SqliteStore; fileId: string }> {
  const store = new SqliteStore(openDatabase(join(dir, `${name}.db`)));
  await store.accounts.insertAccounts([{ account: { id: 'acme', profile: 'exchange', partner: 'acme', allowIps: [], options: {} }, keys: [] }]);
  const file = (await store.journal.insert({
    accountId: 'acme', profile: 'exchange', flux: 'sal', workflow: 'sal', originalPath: 'in/sal/x.csv', name: 'x.csv',
    size: 1, sha1: 'a', sha256: 'b', location: join(dir, 'x.csv'),
  }))!;
  await store.queue.insert({ topic: 'file.process', payload: { fileId: file.id }, dedupKey: file.id, accountId: 'acme', maxAttempts: 5 });
  return { store, fileId: file.id };
}

const hashes = async (store: SqliteStore) => {
  const s = await store.accountData.sections('acme');
  return { directory: hashExport(s.directory).sha256, journal: hashExport(s.journal).sha256 };
};

test('removeAccountRows deletes every row of the account only when they are the rows exported, and no file of it is leased', async () => {
  const { store, fileId } = await storeWithAccount('uow');
  const exported = await hashes(store);
  const sameAsExported = (current: AccountSections) =>
    hashExport(current.directory).sha256 === exported.directory && hashExport(current.journal).sha256 === exported.journal;

  // The server journaled an event after the export: the rows differ, nothing is deleted.
  await store.journal.addEvent(fileId, 'step', { step: 'handler', ms: 1 });
  assert.deepEqual(await store.accountData.removeAccountRows('acme', sameAsExported), { changed: true });
  assert.equal((await store.accountData.counts('acme')).files, 1, 'nothing deleted');

  // A worker of this (live) process holds the file's job: refused, nothing deleted.
  const [job] = await store.queue.claim({ topic: 'file.process', leaseMs: 60_000, max: 1, perAccount: 1, held: {} });
  const busy = await store.accountData.removeAccountRows('acme', () => true);
  assert.ok('busy' in busy);
  assert.deepEqual(busy.busy.map((l) => [l.jobId, l.fileId]), [[job.id, fileId]]);
  assert.equal((await store.accountData.counts('acme')).accounts, 1);

  // Lease over, rows exported again: all deleted, the counts of what went returned.
  await store.queue.releaseAllLeases();
  const again = await hashes(store);
  const removal = await store.accountData.removeAccountRows('acme',
    (current) => hashExport(current.directory).sha256 === again.directory && hashExport(current.journal).sha256 === again.journal);
  assert.ok('removed' in removal);
  assert.deepEqual([removal.removed.accounts, removal.removed.files, removal.removed.fileEvents, removal.removed.queue], [1, 1, 2, 1]);
  const left = await store.accountData.counts('acme');
  assert.equal(totalRows(left), 0, JSON.stringify(left));
  store.close();
});
