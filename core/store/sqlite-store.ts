import { SqliteAuditRepository } from './audit-repository';
import type { Database } from './database';
import { SqliteDeliveryRepository } from './deliveries-repository';
import { SqliteEventRepository } from './events-repository';
import { SqliteExpectationRepository } from './expectations-repository';
import { SqliteCronRepository } from './cron-repository';
import { SqliteInactivityRepository } from './inactivity-repository';
import { SqliteOperationsRepository } from './operations-repository';
import { SqliteOperatorRepository } from './operators-repository';
import { SqliteRetentionRepository } from './retention-repository';
import { SqliteTombstoneRepository } from './tombstones-repository';
import type { Store } from './ports/store';

/** The SQLite implementation of every repository, on one better-sqlite3 handle (the composition root builds it). */
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

  constructor(db: Database) {
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
  }
}
