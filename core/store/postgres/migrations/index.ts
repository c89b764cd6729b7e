import { pgCoreMigration } from './001-core';
import { pgDirectoryMigration } from './002-directory';
import { pgJobsMigration } from './003-jobs';
import { pgEngineMigration } from './004-engine';
import { pgEmployeeAttributesMigration } from './005-employee-attributes';
import { pgAttributeShapesMigration } from './006-attribute-shapes';
import { pgEmployeeVersionsMigration } from './007-employee-versions';
import { pgLeaseHolderMigration } from './008-lease-holder';
import { pgLookupIndexesMigration } from './009-lookup-indexes';
import { pgOperatorsMigration } from './010-operators';
import { pgJournalScaleMigration } from './011-journal-scale';
import { pgEventsMigration } from './012-events';
import { pgWorkflowVersionsMigration } from './013-workflow-versions';
import { pgNodesMigration } from './015-nodes';
import { pgFileClientMigration } from './016-file-client';
import { pgBansMigration } from './017-bans';
import { pgAccountChangesMigration } from './018-account-changes';
import { pgCronSlotsMigration } from './019-cron-slots';
import { pgUploadIdentityMigration } from './020-upload-identity';
import { pgQueueDoneIndexMigration } from './021-queue-done-index';
import { pgKeyCollationMigration } from './022-key-collation';
import type { Migration } from '../../migrations/types';

/**
 * The PostgreSQL schema, one migration per SQLite migration (core/store/migrations), with the
 * same version numbers and names: a schema version means the same tables on both engines.
 * Adding a SQLite migration means adding its PostgreSQL twin here
 * (test/unit/postgres-schema.test.ts fails until both lists end at the same version).
 */
export const PG_MIGRATIONS: readonly Migration[] = [pgCoreMigration, pgDirectoryMigration, pgJobsMigration, pgEngineMigration,
  pgEmployeeAttributesMigration, pgAttributeShapesMigration, pgEmployeeVersionsMigration, pgLeaseHolderMigration,
  pgLookupIndexesMigration, pgOperatorsMigration, pgJournalScaleMigration, pgEventsMigration, pgWorkflowVersionsMigration,
  pgNodesMigration, pgFileClientMigration, pgBansMigration, pgAccountChangesMigration, pgCronSlotsMigration,
  pgUploadIdentityMigration, pgQueueDoneIndexMigration, pgKeyCollationMigration];
