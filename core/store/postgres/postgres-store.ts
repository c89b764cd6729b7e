import type { Logger } from '../../logging/logger';
import type { DirectoryRepository } from '../ports/directory';
import type { Store } from '../ports/store';
import { PostgresAccountDataRepository } from './account-data-repository';
import { PostgresAccountRepository } from './account-repository';
import { PostgresAuditRepository } from './audit-repository';
import { PostgresBanRepository } from './bans-repository';
import { connectPostgres } from './connect';
import { PostgresCronRepository } from './cron-repository';
import { PostgresDeliveryRepository } from './deliveries-repository';
import { PostgresDirectoryRepository } from './directory-repository';
import { PostgresEventRepository } from './events-repository';
import { PostgresExpectationRepository } from './expectations-repository';
import { PostgresHousekeepingRepository } from './housekeeping-repository';
import { PostgresInactivityRepository } from './inactivity-repository';
import { PostgresJournalRepository } from './journal-repository';
import { migratePostgres } from './migrate';
import { PostgresOperationsRepository } from './operations-repository';
import { PostgresNodeRepository } from './nodes-repository';
import { PostgresOperatorRepository } from './operators-repository';
import { PgPool, type PoolOptions } from './pool';
import { PostgresQueueRepository } from './queue-repository';
import { PostgresRetentionRepository } from './retention-repository';
import { PostgresTombstoneRepository } from './tombstones-repository';
import { PostgresWorkflowVersionRepository } from './workflow-versions-repository';

/**
 * The PostgreSQL implementation of every repository of `Store`, on one connection pool: what a
 * cluster's nodes share. Units of work are transactions on one connection of the pool
 * (core/store/postgres/pool.ts). `serve` and the CLI use it with store.url (core/composition/state.ts,
 * core/cli/context.ts; docs/cluster.md).
 */
export class PostgresStore implements Store {
  readonly operators: PostgresOperatorRepository;
  readonly audit: PostgresAuditRepository;
  readonly events: PostgresEventRepository;
  readonly deliveries: PostgresDeliveryRepository;
  readonly expectations: PostgresExpectationRepository;
  readonly cronRuns: PostgresCronRepository;
  readonly tombstones: PostgresTombstoneRepository;
  readonly retention: PostgresRetentionRepository;
  readonly inactivity: PostgresInactivityRepository;
  readonly housekeeping: PostgresHousekeepingRepository;
  readonly operations: PostgresOperationsRepository;
  readonly accounts: PostgresAccountRepository;
  readonly bans: PostgresBanRepository;
  readonly accountData: PostgresAccountDataRepository;
  readonly journal: PostgresJournalRepository;
  readonly queue: PostgresQueueRepository;
  readonly nodes: PostgresNodeRepository;
  readonly workflowVersions: PostgresWorkflowVersionRepository;

  /**
   * Connects to the store URL, brings the schema up to date (one node at a time: migrate's
   * advisory lock) and opens the pool. Fails with FG_STORE_UNREACHABLE, FG_STORE_AUTH,
   * FG_STORE_NO_DATABASE or FG_STORE (a migration refused) before anything is served.
   */
  static async open(url: string, logger: Logger, options: PoolOptions = {}): Promise<PostgresStore> {
    const client = await connectPostgres(url, { application_name: 'fluxgate migrate' });
    try {
      const migrated = await migratePostgres(client);
      if (migrated.applied.length > 0) logger.info({ applied: migrated.applied, version: migrated.version }, 'PostgreSQL schema migrated');
    } finally {
      await client.end().catch(() => {});
    }
    return new PostgresStore(new PgPool(url, options, logger));
  }

  constructor(readonly pool: PgPool) {
    this.operators = new PostgresOperatorRepository(pool);
    this.audit = new PostgresAuditRepository(pool);
    this.events = new PostgresEventRepository(pool);
    this.deliveries = new PostgresDeliveryRepository(pool);
    this.expectations = new PostgresExpectationRepository(pool);
    this.cronRuns = new PostgresCronRepository(pool);
    this.tombstones = new PostgresTombstoneRepository(pool);
    this.retention = new PostgresRetentionRepository(pool);
    this.inactivity = new PostgresInactivityRepository(pool);
    this.housekeeping = new PostgresHousekeepingRepository(pool);
    this.operations = new PostgresOperationsRepository(pool);
    this.accounts = new PostgresAccountRepository(pool);
    this.bans = new PostgresBanRepository(pool);
    this.accountData = new PostgresAccountDataRepository(pool);
    this.journal = new PostgresJournalRepository(pool);
    this.queue = new PostgresQueueRepository(pool);
    this.nodes = new PostgresNodeRepository(pool);
    this.workflowVersions = new PostgresWorkflowVersionRepository(pool);
  }

  /** The plugin API's directory (the port), on this store's pool, as SqliteStore.directory(); `afterWrite` is called after each batch. */
  directory(hooks: { afterWrite?: () => void } = {}): DirectoryRepository { return new PostgresDirectoryRepository(this.pool, hooks); }

  private closing?: Promise<void>;

  /** Ends the pool, and the connections of jobs still running (their locks are released as if the node died). Once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.cronRuns.close();
      await this.pool.end();
    })();
    return this.closing;
  }
}
