import type { EngineUnderTest } from '../helpers/postgres-contract';

/**
 * Fixtures the Store interface does not make (the journal, the queue, directory rows are not
 * behind it yet): written with the same SQL on both engines.
 */
let files = 0;
export interface FileFixture {
  id?: string; accountId?: string; flux?: string | null; name?: string; state?: string; receivedAt: number;
  processedAt?: number | null; location?: string; size?: number; sha256?: string; outcome?: string | null;
}

/** A journal row; returns its id. */
export async function insertFile(e: EngineUnderTest, f: FileFixture): Promise<string> {
  const id = f.id ?? `f_${String(++files).padStart(6, '0')}`;
  const name = f.name ?? `${id}.csv`;
  const accountId = f.accountId ?? 'acme';
  await e.sql(`INSERT INTO files (id, account_id, flux, original_path, name, size, sha1, sha256, received_at, state, location, processed_at, outcome, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [id, accountId, f.flux === undefined ? 'sal' : f.flux, `in/sal/${name}`, name, f.size ?? 3,
    'a'.repeat(40), f.sha256 ?? 'b'.repeat(64), f.receivedAt, f.state ?? 'received', f.location ?? `/data/sftp/${accountId}/in/sal/${name}`,
    f.processedAt ?? null, f.outcome ?? null, f.receivedAt]);
  return id;
}

/** A file's timeline entry; returns nothing (ids are the engine's). */
export async function insertFileEvent(e: EngineUnderTest, fileId: string, type: string, at: number): Promise<void> {
  await e.sql('INSERT INTO file_events (file_id, at, type, detail) VALUES (?, ?, ?, ?)', [fileId, at, type, '{}']);
}

/** The file's state and timeline types, read under the interface. */
export async function fileTimeline(e: EngineUnderTest, fileId: string): Promise<{ state: string | undefined; events: Array<{ type: string; detail: Record<string, unknown> }> }> {
  const [row] = await e.sql<{ state: string }>('SELECT state FROM files WHERE id = ?', [fileId]);
  const events = await e.sql<{ type: string; detail: string }>('SELECT type, detail FROM file_events WHERE file_id = ? ORDER BY id', [fileId]);
  return { state: row?.state, events: events.map((r) => ({ type: r.type, detail: JSON.parse(r.detail) as Record<string, unknown> })) };
}

/** A new account with no key, through the interface. */
export async function newAccount(e: EngineUnderTest, id: string, createdAt = 1_000): Promise<void> {
  const [made] = await e.store.accounts.insertAccounts([{ account: { id, profile: 'exchange', partner: null, allowIps: [], options: {}, createdAt }, keys: [] }], createdAt);
  if (!made) throw new Error(`account ${id} exists`);
}
