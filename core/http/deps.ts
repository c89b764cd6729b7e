import type { AccountService } from '../accounts/account-service';
import type { LoadedConfig } from '../config/load';
import type { DataPaths } from '../config/paths';
import type { FluxgateConfig } from '../config/schema';
import type { Jobs } from '../cron/jobs';
import type { Logger } from '../logging/logger';
import type { AuditRepository } from '../store/ports/audit';
import type { OperatorService } from '../operators/operator-service';
import type { ServerKeyStore } from '../pgp/server-key';
import type { FileJobs } from '../queue/file-jobs';
import type { DirectoryRepository } from '../store/ports/directory';
import type { JournalRepository } from '../store/journal-repository';
import type { Store } from '../store/ports/store';
import type { WorkflowRegistry } from '../workflow/registry';
import type { WorkflowSources } from '../workflow/workflow-edit';
import type { FluxgateMetrics } from './metrics';

/** What the routes use: the same services the CLI commands call. */
export interface HttpDeps {
  loaded: LoadedConfig;
  config: FluxgateConfig;
  paths: DataPaths;
  /** The store's repositories (core/store/ports). */
  store: Store;
  /** The plugin API's directory (core/store/ports/directory.ts). */
  directory: DirectoryRepository;
  /** The journal, and the engine's "process this file" (replay). */
  journal: JournalRepository;
  files: FileJobs;
  log: Logger;
  accounts: AccountService;
  operators: OperatorService;
  audit: AuditRepository;
  workflows: WorkflowRegistry;
  workflowSources: WorkflowSources;
  jobs: Jobs;
  pgpKeys: ServerKeyStore;
  metrics: FluxgateMetrics;
  /** /readyz: the store answers, SFTP listens, workflows are loaded. */
  ready(): Promise<boolean>;
}
