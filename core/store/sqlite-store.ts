import { SqliteAuditRepository } from './audit-repository';
import type { Database } from './database';
import { SqliteDeliveryRepository } from './deliveries-repository';
import { SqliteEventRepository } from './events-repository';
import { SqliteExpectationRepository } from './expectations-repository';
import { SqliteOperatorRepository } from './operators-repository';
import type { Store } from './ports/store';

/** The SQLite implementation of every repository, on one better-sqlite3 handle (the composition root builds it). */
export class SqliteStore implements Store {
  readonly operators: SqliteOperatorRepository;
  readonly audit: SqliteAuditRepository;
  readonly events: SqliteEventRepository;
  readonly deliveries: SqliteDeliveryRepository;
  readonly expectations: SqliteExpectationRepository;

  constructor(db: Database) {
    this.operators = new SqliteOperatorRepository(db);
    this.audit = new SqliteAuditRepository(db);
    this.events = new SqliteEventRepository(db);
    this.deliveries = new SqliteDeliveryRepository(db);
    this.expectations = new SqliteExpectationRepository(db);
  }
}
