import { strict as assert } from 'node:assert';
import { describe } from 'node:test';
import type { AccountSections } from '../../core/store/ports/account-data';
import { leaseOf } from '../../core/store/ports/queue';
import type { PostgresStore } from '../../core/store/postgres/postgres-store';
import { bothEngines, type EngineUnderTest } from '../helpers/postgres-contract';
import { insertFile, insertFileEvent, newAccount } from './store-contract-support';

// What an account owns beyond its row, through its port (core/store/ports/account-data.ts):
// counts, live leases, the export's sections, the removal's unit of work, on both engines.
const pg = (e: EngineUnderTest): PostgresStore => e.store as PostgresStore;
const text = (s: AccountSections): string => JSON.stringify([...s.directory, ...s.journal].map((x) => [x.name, [...x.rows()]]));

async function fill(e: EngineUnderTest, id: string): Promise<string> {
  await newAccount(e, id);
  await e.store.accounts.addKey({ accountId: id, type: 'ssh-ed25519', bits: 256, fingerprint: `SHA256:${id}`, publicKey: 'k', comment: '', addedAt: 1, expiresAt: 9 });
  await e.sql('INSERT INTO dir_organizations (account_id, code, name, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [id, 'ORG', 'Org', '{"city":"Lyon"}', 1, 1]);
  await e.sql('INSERT INTO dir_attribute_shapes (id, keys) VALUES (?, ?) ON CONFLICT DO NOTHING', ['shape1', '["grade","site"]']);
  await e.sql(`INSERT INTO dir_employees (account_id, organization_code, registration_reference, lastname, firstname, active, data, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [id, 'ORG', 'E1', 'Doe', 'Jo', e.engine === 'sqlite' ? 1 : true, '["shape1","B2","Lyon"]', 1, 1]);
  const file = await insertFile(e, { accountId: id, receivedAt: 10, state: 'processed', outcome: '{"result":"processed"}' });
  await insertFileEvent(e, file, 'received', 10);
  await e.sql('INSERT INTO outputs (file_id, account_id, kind, path, created_at) VALUES (?, ?, ?, ?, ?)', [file, id, 'report', `/o/${id}/r.csv`, 11]);
  await pg(e).queue.insert({ topic: 'file', payload: { fileId: file }, maxAttempts: 5, accountId: id, runAt: 0 }, 0);
  await e.store.inactivity.set({ accountId: id, basisAt: 1, disabledAt: 2 });
  await e.store.retention.replaceSeen(id, [{ path: `/d/${id}/x`, accountId: id, inode: 'i', firstSeenAt: 1 }]);
  return file;
}

describe('store contract: account data', () => {
  bothEngines('counts, sections (employees decoded, JSON parsed), removal of every row but the tombstones', async (e) => {
    const data = pg(e).accountData;
    const file = await fill(e, 'acme');
    await fill(e, 'other');
    await e.store.tombstones.intend({ fileId: null, accountId: 'acme', path: '/t', name: 't', size: 1, sha256: null, rule: 'out', deletedAt: 1, asOf: 1, inode: null, detail: {} });
    const one = { accounts: 1, keys: 1, organizations: 1, employees: 1, users: 0, documents: 0, employeeVersions: 0, files: 1, fileEvents: 1, outputs: 1, queue: 1, inactivityMarks: 1, retentionSeen: 1 };
    assert.deepEqual(await data.counts('acme'), one);

    const sections = await data.sections('acme');
    const employees = [...sections.directory.find((s) => s.name === 'employees')!.rows()];
    assert.deepEqual(employees.map((r) => [r.registration_reference, r.data, Boolean(r.active)]), [['E1', { grade: 'B2', site: 'Lyon' }, true]]); // SQLite 1, PostgreSQL true
    assert.deepEqual([...sections.directory.find((s) => s.name === 'organizations')!.rows()].map((r) => r.data), [{ city: 'Lyon' }]);
    const [f] = [...sections.journal.find((s) => s.name === 'files')!.rows()];
    assert.deepEqual([f.id, f.outcome, (f.events as Array<{ type: string }>).map((x) => x.type)], [file, { result: 'processed' }, ['received']]);
    assert.equal(text(await data.sections('acme')), text(sections), 'two reads of the same rows are the same');

    assert.deepEqual(await data.removeAccountRows('acme', () => false), { changed: true });
    assert.deepEqual(await data.counts('acme'), one, 'changed: nothing deleted');
    const removal = await data.removeAccountRows('acme', (current) => text(current) === text(sections));
    assert.deepEqual(removal, { removed: one });
    assert.deepEqual(Object.values(await data.counts('acme')).every((n) => n === 0), true);
    assert.deepEqual(await data.counts('other'), one, 'another account untouched');
    assert.equal((await e.store.tombstones.list({ accountId: 'acme' })).length, 1, 'tombstones outlive the account');
  });

  bothEngines('a live lease on a file of the account: listed, and the removal refused (busy)', async (e) => {
    const data = pg(e).accountData;
    const file = await fill(e, 'acme');
    const [job] = await pg(e).queue.claim({ topic: 'file', leaseMs: 60_000, max: 1, perAccount: 1, held: {}, now: 1_000 });
    const leases = await data.liveLeases('acme', 2_000);
    assert.deepEqual(leases, [{ jobId: job.id, fileId: file, fileName: `${file}.csv`, leaseUntil: 61_000 }]);
    assert.deepEqual(await data.liveLeases('acme', 61_001), [], 'a lapsed lease is nobody\'s');
    const refused = await data.removeAccountRows('acme', () => true, 2_000);
    assert.deepEqual(refused, { busy: leases });
    assert.equal((await data.counts('acme')).accounts, 1);
    await pg(e).queue.complete(leaseOf(job));
    assert.ok('removed' in await data.removeAccountRows('acme', () => true, 2_000));
  });
});
