import type { Logger } from '../logging/logger';
import { SqliteAccountDataRepository } from './sqlite-account-data-repository';
import { SqliteAuditRepository } from './audit-repository';
import { SqliteBanRepository } from './bans-repository';
import { SqliteCronRepository } from './cron-repository';
import { openDatabase, type Database } from './database';
import { SqliteDeliveryRepository } from './deliveries-repository';
import { SqliteDirectoryRepository } from './directory-repository';
import type { DirectoryWriter } from './directory-writer';
import type { DirectoryRepository } from './ports/directory';
import { SqliteEventRepository } from './events-repository';
import { SqliteExpectationRepository } from './expectations-repository';
import { SqliteHousekeepingRepository } from './housekeeping-repository';
import { SqliteInactivityRepository } from './inactivity-repository';
import { SqliteJournalRepository } from './journal-repository';
import { SqliteNodeRepository } from './nodes-repository';
import { SqliteOperationsRepository } from './operations-repository';
import { SqliteOperatorRepository } from './operators-repository';
import type { Store } from './ports/store';
import { SqliteQueueRepository } from './queue-repository';
import { SqliteAccountRepository } from './sqlite-account-repository';
import { SqliteRetentionRepository } from './retention-repository';
import { SqliteTombstoneRepository } from './tombstones-repository';
import { WalCheckpointer } from './wal-checkpointer';
import { SqliteWorkflowVersionRepository } from './workflow-versions-repository';

/**
 * The SQLite implementation of every repository, on one better-sqlite3 connection: what the
 * composition roots (core/composition, the CLI's context) build, and the only holder of the
 * `Database` outside core/store's classes. Its `directory()` is the one SQLite class whose callers
 * do not go through an interface yet (docs/store.md, "What stays synchronous").
 */
export class SqliteStore implements Store {
  readonly operators: SqliteOperatorRepository;
  readonly audit: SqliteAuditRepository;
  readonly events: SqliteEventRepository;
  readonly deliveries: SqliteDeliveryRepository;
  readonly expectations: SqliteExpectationRepository;
  readonly cronRuns: SqliteCronRepository;
  readonly tombstones: SqliteTombstoneRepository;
  readonly retention: SqliteRetentionRepository;
  readonly inactivity: SqliteInactivityRepository;
  readonly housekeeping: SqliteHousekeepingRepository;
  readonly operations: SqliteOperationsRepository;
  readonly accounts: SqliteAccountRepository;
  readonly journal: SqliteJournalRepository;
  readonly queue: SqliteQueueRepository;
  readonly nodes: SqliteNodeRepository;
  readonly workflowVersions: SqliteWorkflowVersionRepository;
  readonly accountData: SqliteAccountDataRepository;
  readonly bans: SqliteBanRepository;

  /** Opens (and migrates) the database file. */
  static open(file: string): SqliteStore {
    return new SqliteStore(openDatabase(file));
  }

  constructor(private readonly db: Database) {
    this.operators = new SqliteOperatorRepository(db);
    this.audit = new SqliteAuditRepository(db);
    this.events = new SqliteEventRepository(db);
    this.deliveries = new SqliteDeliveryRepository(db);
    this.expectations = new SqliteExpectationRepository(db);
    this.cronRuns = new SqliteCronRepository(db);
    this.tombstones = new SqliteTombstoneRepository(db);
    this.retention = new SqliteRetentionRepository(db);
    this.inactivity = new SqliteInactivityRepository(db);
    this.housekeeping = new SqliteHousekeepingRepository(db);
    this.operations = new SqliteOperationsRepository(db);
    this.accounts = new SqliteAccountRepository(db);
    this.journal = new SqliteJournalRepository(db);
    this.queue = new SqliteQueueRepository(db);
    this.nodes = new SqliteNodeRepository(db);
    this.workflowVersions = new SqliteWorkflowVersionRepository(db);
    this.accountData = new SqliteAccountDataRepository(db);
    this.bans = new SqliteBanRepository(db);
  }

  // Not behind an interface yet: each call makes the class on this connection.
  /** The plugin API's directory (the port, async); `afterWrite` is called after each batch. */
  directory(hooks: { afterWrite?: () => void; writer?: DirectoryWriter } = {}): DirectoryRepository { return new SqliteDirectoryRepository(this.db, hooks); }

  /** The service that keeps this connection's WAL file small (a Service of the server). */
  walCheckpointer(logger: Logger): WalCheckpointer { return new WalCheckpointer(this.db, logger); }

  close(): void { this.db.close(); }
}
