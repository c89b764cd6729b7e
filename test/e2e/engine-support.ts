import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import { makeKey, type TestKey } from '../helpers/keys';
import { openDatabase, type Database } from '../../core/store/database';
import { JournalReads } from '../../core/store/journal-reader';
import { MAX_PAGE, type FileEvent, type JournalFile } from '../../core/store/journal-repository';
import { TestServer } from '../helpers/server';
import { accountServiceOn } from '../helpers/accounts';

const FINAL = ['processed', 'rejected', 'dead'];

/** Reads the server's journal straight from its SQLite file (WAL: safe beside the running server). */
export class JournalProbe {
  private readonly db: Database;
  /** Synchronous reads, as a test polls them. */
  readonly journal: JournalReads;

  constructor(server: TestServer) {
    this.db = openDatabase(join(server.dataDir, 'fluxgate.db'));
    this.journal = new JournalReads(this.db);
  }

  byName(name: string, account?: string): JournalFile[] {
    // Oldest first (the journal pages newest first), as tests name the first upload of a name.
    return this.journal.list({ accountId: account, q: name, limit: MAX_PAGE }).files.filter((f) => f.name === name).reverse();
  }

  events(id: string): FileEvent[] { return this.journal.events(id); }

  /** Waits until the file with this name is finished (processed, rejected or dead). */
  async finished(name: string, timeoutMs = 20_000, account?: string): Promise<JournalFile> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = this.byName(name, account).find((f) => FINAL.includes(f.state));
      if (done) return done;
      if (Date.now() > deadline) throw new Error(`${name} not finished in ${timeoutMs} ms: ${JSON.stringify(this.byName(name, account))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void { this.db.close(); }
}

/** Creates an exchange account with a fresh key straight in the server's database (what `account add` does, minus a CLI start-up). */
export async function createAccount(server: TestServer, id: string, profile: 'exchange' | 'dropbox' = 'exchange'): Promise<TestKey> {
  const key = makeKey();
  const paths = new DataPaths(server.dataDir);
  const db = openDatabase(paths.database);
  try {
    await accountServiceOn(db, paths, loadConfig({ configFile: server.configFile }).config)
      .create({ id, profile, partner: profile === 'exchange' ? id : undefined, publicKey: key.publicKey });
  } finally {
    db.close();
  }
  return key;
}

/**
 * A started server (config merged over the test defaults) with the exchange account `acme`,
 * its `in/echo` folder made, and a probe on its journal.
 */
export async function startEchoServer(config: Record<string, unknown>): Promise<{ server: TestServer; paths: DataPaths; probe: JournalProbe }> {
  const server = new TestServer({ config });
  const paths = new DataPaths(server.dataDir);
  await createAccount(server, 'acme');
  mkdirSync(join(paths.accountRoot('acme'), 'in', 'echo'));
  await server.start();
  return { server, paths, probe: new JournalProbe(server) };
}
