import { coreMigration } from './001-core';
import { directoryMigration } from './002-directory';
import { jobsMigration } from './003-jobs';
import { engineMigration } from './004-engine';
import { employeeAttributesMigration } from './005-employee-attributes';
import { attributeShapesMigration } from './006-attribute-shapes';
import { employeeVersionsMigration } from './007-employee-versions';
import { leaseHolderMigration } from './008-lease-holder';
import { lookupIndexesMigration } from './009-lookup-indexes';
import { operatorsMigration } from './010-operators';
import { journalScaleMigration } from './011-journal-scale';
import { eventsMigration } from './012-events';
import { workflowVersionsMigration } from './013-workflow-versions';
import { nodesMigration } from './015-nodes';
import { fileClientMigration } from './016-file-client';
import { bansMigration } from './017-bans';
import { accountChangesMigration } from './018-account-changes';
import { cronSlotsMigration } from './019-cron-slots';
import { uploadIdentityMigration } from './020-upload-identity';
import { queueDoneIndexMigration } from './021-queue-done-index';
import { keyCollationMigration } from './022-key-collation';
import type { Migration } from './types';

export type { Migration } from './types';

/** In version order. Never edit a released migration: add a new one. */
export const MIGRATIONS: readonly Migration[] = [coreMigration, directoryMigration, jobsMigration, engineMigration, employeeAttributesMigration,
  attributeShapesMigration, employeeVersionsMigration, leaseHolderMigration, lookupIndexesMigration,
  operatorsMigration, journalScaleMigration, eventsMigration,
  // 014 is another branch's (issue #23 took 013)
  workflowVersionsMigration, nodesMigration, fileClientMigration, bansMigration, accountChangesMigration,
  cronSlotsMigration, uploadIdentityMigration, queueDoneIndexMigration, keyCollationMigration];
