import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import type { Logger } from '../logging/logger';
import type { AccountRepository } from '../store/ports/accounts';
import type { Service } from '../tokens';
import { publishPublicKey, type PublishResult } from './publish';
import type { ServerKeyStore } from './server-key';

const PUBLISHED = 'PGP public key published to exchange accounts';
/** Accounts published to between two turns of the event loop. */
const PAGE = 100;

/**
 * At server start: loads (or generates) the server key, so a broken key configuration stops
 * the start with a clear FG_PGP instead of failing at the first upload, then publishes the
 * public key to every exchange account's out/sig/ (repairing any that were deleted) in the
 * background. A key still to be generated is generated in the background too.
 */
export class PgpService implements Service {
  readonly name = 'pgp';
  private readonly log: Logger;
  private stopping = false;
  private publishOnceStarted = false;

  constructor(
    private readonly keys: ServerKeyStore,
    private readonly accounts: AccountRepository,
    private readonly paths: DataPaths,
    private readonly config: FluxgateConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'pgp' });
  }

  async start(): Promise<void> {
    if (this.keys.needsGeneration) {
      this.keys.checkGenerationSettings();
      // RSA generation takes seconds (tens on a busy host): do not hold the server's start for
      // it. Decryption and signing wait for the same key; the key is published when ready.
      this.log.info({ keyType: this.config.pgp.keyType }, 'generating the PGP server key in the background');
      this.publishAll()
        .then((counts) => { if (!this.stopping) this.log.info({ ...counts }, PUBLISHED); })
        .catch((err: unknown) => this.log.error({ err }, 'the PGP server key could not be generated: encrypted uploads and signatures will fail'));
      return;
    }
    // An existing or configured key loads in milliseconds: a broken one stops the start here.
    await this.keys.load();
    this.publishOnceStarted = true;
  }

  /**
   * Publishing reads every account's copy: in the background once the server listens, so that
   * thousands of accounts hold up neither the start nor the services started after this one (#19).
   */
  async started(): Promise<void> {
    if (!this.publishOnceStarted) return;
    await this.publishAll()
      .then((counts) => { if (!this.stopping) this.log.info({ ...counts }, PUBLISHED); })
      .catch((err: unknown) => this.log.error({ err }, 'the PGP public key could not be published'));
  }

  stop(): void {
    // A key still being generated is written atomically or not at all; only skip publishing,
    // as the database is about to close.
    this.stopping = true;
  }

  /** Publishes to every exchange account; returns how many files were written / already current. */
  async publishAll(): Promise<Record<PublishResult, number>> {
    const key = await this.keys.load();
    const counts: Record<PublishResult, number> = { written: 0, unchanged: 0, skipped: 0 };
    if (this.stopping) return counts;
    // A page of accounts at a time, the event loop running between pages (purged accounts are left out).
    for (let page = await this.accounts.pageAfter('', PAGE); page.length > 0; page = await this.accounts.pageAfter(page[page.length - 1].id, PAGE)) {
      for (const account of page) {
        try {
          counts[publishPublicKey(this.paths, account, key.armoredPublicKey, this.config.sftp.fileMode)]++;
        } catch (err) {
          // One unwritable account tree must not keep the others from getting the key.
          this.log.error({ accountId: account.id, err }, 'cannot publish the PGP public key to this account');
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
      if (this.stopping) break;
    }
    return counts;
  }
}
