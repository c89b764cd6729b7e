import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../core/config';
import { DataPaths } from '../../core/config/paths';
import { makeKey, type TestKey } from '../helpers/keys';
import type { JournalPage } from '../../core/store/ports/journal';
import type { JournalQuery } from '../../core/store/journal-query';
import type { FileEvent, JournalFile } from '../../core/store/journal-types';
import { MAX_PAGE } from '../../core/store/journal-repository';
import { TestServer } from '../helpers/server';
import { accountServiceFor } from '../helpers/accounts';

const FINAL = ['processed', 'rejected', 'dead'];

/** Reads the server's journal through its store (either engine: TestServer.store()), beside the running server. */
export class JournalProbe {
  constructor(private readonly server: TestServer) {}

  private async journal() { return (await this.server.store()).store.journal; }

  async byName(name: string, account?: string): Promise<JournalFile[]> {
    // Oldest first (the journal pages newest first), as tests name the first upload of a name.
    return (await (await this.journal()).list({ accountId: account, q: name, limit: MAX_PAGE })).files.filter((f) => f.name === name).reverse();
  }

  async get(id: string): Promise<JournalFile | undefined> { return (await this.journal()).get(id); }

  async list(query: JournalQuery): Promise<JournalPage> { return (await this.journal()).list(query); }

  async events(id: string): Promise<FileEvent[]> { return (await this.journal()).events(id); }

  /** Waits until the file with this name is finished (processed, rejected or dead). */
  async finished(name: string, timeoutMs = 20_000, account?: string): Promise<JournalFile> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = (await this.byName(name, account)).find((f) => FINAL.includes(f.state));
      if (done) return done;
      if (Date.now() > deadline) throw new Error(`${name} not finished in ${timeoutMs} ms: ${JSON.stringify(await this.byName(name, account))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Creates an account with a fresh key straight in the server's store (what `account add` does, minus a CLI start-up). */
export async function createAccount(server: TestServer, id: string, profile: 'exchange' | 'dropbox' = 'exchange'): Promise<TestKey> {
  const key = makeKey();
  const paths = new DataPaths(server.dataDir);
  await accountServiceFor((await server.store()).store, paths, loadConfig({ configFile: server.configFile }).config)
    .create({ id, profile, partner: profile === 'exchange' ? id : undefined, publicKey: key.publicKey });
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
