import type { AccountDataRepository } from './account-data';
import type { AccountRepository } from './accounts';
import type { AuditRepository } from './audit';
import type { BanRepository } from './bans';
import type { DeliveryRepository, EventRepository, ExpectationRepository } from './events';
import type { HousekeepingRepository } from './housekeeping';
import type { OperationsRepository } from './operations';
import type { CronRepository, InactivityRepository, RetentionRepository, TombstoneRepository } from './jobs';
import type { OperatorRepository } from './operators';
import type { JournalRepository } from './journal';
import type { QueueRepository } from './queue';
import type { NodeRepository } from './nodes';
import type { WorkflowVersionRepository } from './workflow-versions';

/**
 * The store as its callers see it: one repository per family of rows, every method async, and
 * every atomic multi-statement operation one method (a unit of work) so that no transaction
 * crosses an await (docs/store.md). One implementation per engine: SQLite today
 * (core/store/sqlite-store.ts), PostgreSQL next.
 */
export interface Store {
  readonly operators: OperatorRepository;
  readonly audit: AuditRepository;
  readonly events: EventRepository;
  readonly deliveries: DeliveryRepository;
  readonly expectations: ExpectationRepository;
  readonly cronRuns: CronRepository;
  readonly tombstones: TombstoneRepository;
  readonly retention: RetentionRepository;
  readonly inactivity: InactivityRepository;
  /** The housekeeping job's chunked deletions of old done queue jobs, events and deliveries. */
  readonly housekeeping: HousekeepingRepository;
  readonly operations: OperationsRepository;
  readonly accounts: AccountRepository;
  readonly journal: JournalRepository;
  readonly queue: QueueRepository;
  readonly nodes: NodeRepository;
  readonly workflowVersions: WorkflowVersionRepository;
  readonly accountData: AccountDataRepository;
  /** Brute-force bans, shared by the nodes (PostgreSQL: core/store/postgres/bans-repository.ts). */
  readonly bans: BanRepository;
}
