import { SqliteAuditRepository } from './audit-repository';
import type { Database } from './database';
import { SqliteOperatorRepository } from './operators-repository';
import type { Store } from './ports/store';

/** The SQLite implementation of every repository, on one better-sqlite3 handle (the composition root builds it). */
export class SqliteStore implements Store {
  readonly operators: SqliteOperatorRepository;
  readonly audit: SqliteAuditRepository;

  constructor(db: Database) {
    this.operators = new SqliteOperatorRepository(db);
    this.audit = new SqliteAuditRepository(db);
  }
}
