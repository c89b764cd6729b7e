import type { AddressInfo } from 'node:net';
import type { AccountService } from '../accounts/account-service';
import type { LoadedConfig } from '../config/load';
import type { DataPaths } from '../config/paths';
import type { Jobs } from '../cron/jobs';
import { FluxgateError } from '../errors';
import type { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import { OperatorService } from '../operators/operator-service';
import type { ServerKeyStore } from '../pgp/server-key';
import type { FileJobs } from '../queue/file-jobs';
import type { SftpService } from '../sftp/sftp-service';
import type { DirectoryRepository } from '../store/ports/directory';
import type { JournalRepository } from '../store/journal-repository';
import type { Store } from '../store/ports/store';
import type { Service } from '../tokens';
import type { HandlerRegistry } from '../workflow/handler-registry';
import type { StepRegistry, WorkflowRegistry } from '../workflow/registry';
import { buildHttpApp, type ZodApp } from './build-app';
import type { HttpDeps } from './deps';
import { FluxgateMetrics } from './metrics';

/** What the operator plane reads and acts on: parts of the server, given by the composition root. */
export interface HttpParts {
  loaded: LoadedConfig;
  store: Store;
  directory: DirectoryRepository;
  logger: Logger;
  paths: DataPaths;
  accounts: AccountService;
  journal: JournalRepository;
  files: FileJobs;
  workflows: WorkflowRegistry;
  steps: StepRegistry;
  handlers: HandlerRegistry;
  jobs: Jobs;
  pgpKeys: ServerKeyStore;
  /** Completed uploads and SFTP signals, for /metrics. */
  uploads: UploadEvents;
  /** For /readyz: whether SFTP listens. */
  sftp: Pick<SftpService, 'address'>;
}

/**
 * The operator plane's listener (http.host:http.port): REST API, OpenAPI, /metrics, probes.
 * Started last, once everything it reports on runs; stopped first.
 */
export class HttpService implements Service {
  readonly name = 'http';
  private app?: ZodApp;
  private metrics?: FluxgateMetrics;

  private readonly log: Logger;

  constructor(private readonly parts: HttpParts) {
    this.log = parts.logger.child({ component: 'http' });
  }

  async start(): Promise<void> {
    const { loaded, workflows, sftp } = this.parts;
    const config = loaded.config;
    this.metrics = await FluxgateMetrics.create(this.parts.store.operations, this.parts.uploads);
    const deps: HttpDeps = {
      loaded, config, store: this.parts.store, directory: this.parts.directory, log: this.log,
      journal: this.parts.journal,
      files: this.parts.files,
      paths: this.parts.paths,
      accounts: this.parts.accounts,
      operators: new OperatorService(this.parts.store.operators),
      audit: this.parts.store.audit,
      workflows,
      workflowSources: { dir: workflows.dir, steps: this.parts.steps.all, handlers: this.parts.handlers },
      jobs: this.parts.jobs,
      pgpKeys: this.parts.pgpKeys,
      metrics: this.metrics,
      ready: async () => (await this.parts.store.operations.ping()) && sftp.address() !== undefined && workflows.all.length > 0,
    };
    this.app = await buildHttpApp(deps);
    try {
      await this.app.listen({ host: config.http.host, port: config.http.port });
    } catch (err) {
      throw new FluxgateError('FG_HTTP', `the HTTP API cannot listen on ${config.http.host}:${config.http.port}: ${(err as Error).message} `
        + '(set http.port, or http.enabled: false)', {}, { cause: err });
    }
    this.log.info({ url: this.url, port: this.port }, 'http listening');
  }

  get port(): number | undefined {
    return (this.app?.server.address() as AddressInfo | null)?.port;
  }

  /** Where operators reach the API (the printed URL at start-up). */
  get url(): string | undefined {
    const { host, tls } = this.parts.loaded.config.http;
    if (this.port === undefined) return undefined;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${tls ? 'https' : 'http'}://${shown}:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.metrics?.close();
  }
}
