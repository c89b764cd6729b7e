import type { Logger } from '../logging/logger';
import { AccountDataRepository } from './account-data-repository';
import { SqliteAccountRows } from './accounts-repository';
import { SqliteAuditRepository } from './audit-repository';
import { SqliteBanRepository } from './bans-repository';
import { SqliteCronRepository } from './cron-repository';
import { openDatabase, type Database } from './database';
import { SqliteDeliveryRepository } from './deliveries-repository';
import { SqliteDirectoryRepository } from './directory-repository';
import type { DirectoryRepository } from './ports/directory';
import { SqliteEventRepository } from './events-repository';
import { SqliteExpectationRepository } from './expectations-repository';
import { SqliteInactivityRepository } from './inactivity-repository';
import { JournalRepository } from './journal-repository';
import { NodesRepository } from './nodes-repository';
import { SqliteOperationsRepository } from './operations-repository';
import { SqliteOperatorRepository } from './operators-repository';
import type { Store } from './ports/store';
import { QueueRepository } from './queue-repository';
import { SqliteAccountRepository } from './sqlite-account-repository';
import { SqliteRetentionRepository } from './retention-repository';
import { SqliteTombstoneRepository } from './tombstones-repository';
import { WalCheckpointer } from './wal-checkpointer';
import { WorkflowVersionsRepository } from './workflow-versions-repository';

/**
 * The SQLite implementation of every repository, on one better-sqlite3 connection: what the
 * composition roots (core/composition, the CLI's context) build, and the only holder of the
 * `Database` outside core/store's classes. Its other members are the SQLite classes whose
 * callers do not go through an interface yet (docs/store.md, "Not converted yet").
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
  readonly operations: SqliteOperationsRepository;
  readonly accounts: SqliteAccountRepository;
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
    this.operations = new SqliteOperationsRepository(db);
    this.accounts = new SqliteAccountRepository(db);
    this.bans = new SqliteBanRepository(db);
  }

  // Not behind an interface yet: each call makes the class on this connection.
  /** Accounts synchronously, for intake and the workflow runner (their conversion comes with the journal's). */
  accountRows(): SqliteAccountRows { return new SqliteAccountRows(this.db); }
  /** What accounts own beyond their rows, for `account remove` (synchronous: its export/delete cycle is not a unit of work yet). */
  accountData(): AccountDataRepository { return new AccountDataRepository(this.db); }
  journal(): JournalRepository { return new JournalRepository(this.db); }
  queue(): QueueRepository { return new QueueRepository(this.db); }
  nodes(): NodesRepository { return new NodesRepository(this.db); }
  workflowVersions(): WorkflowVersionsRepository { return new WorkflowVersionsRepository(this.db); }
  /** The plugin API's directory (the port, async); `afterWrite` is called after each batch. */
  directory(hooks: { afterWrite?: () => void } = {}): DirectoryRepository { return new SqliteDirectoryRepository(this.db, hooks); }

  /** The service that keeps this connection's WAL file small (a Service of the server). */
  walCheckpointer(logger: Logger): WalCheckpointer { return new WalCheckpointer(this.db, logger); }

  close(): void { this.db.close(); }
}
