import type { AddressInfo } from 'node:net';
import type { Container } from 'inversify';
import type { AccountService } from '../accounts/account-service';
import type { LoadedConfig } from '../config/load';
import type { DataPaths } from '../config/paths';
import type { Jobs } from '../cron/build';
import { FluxgateError } from '../errors';
import type { UploadEvents } from '../events';
import type { Logger } from '../logging/logger';
import { AuditRepository } from '../operators/audit-repository';
import { OperatorService } from '../operators/operator-service';
import type { ServerKeyStore } from '../pgp/server-key';
import type { SftpService } from '../sftp/sftp-service';
import type { Database } from '../store/database';
import { Tokens, type Service } from '../tokens';
import type { HandlerRegistry } from '../workflow/handler-registry';
import type { StepRegistry, WorkflowRegistry } from '../workflow/registry';
import { buildHttpApp, type ZodApp } from './build-app';
import type { HttpDeps } from './deps';
import { FluxgateMetrics } from './metrics';

/**
 * The operator plane's listener (http.host:http.port): REST API, OpenAPI, /metrics, probes.
 * Started last, once everything it reports on runs; stopped first.
 */
export class HttpService implements Service {
  readonly name = 'http';
  private app?: ZodApp;
  private metrics?: FluxgateMetrics;

  constructor(private readonly container: Container) {}

  private get log(): Logger { return this.container.get<Logger>(Tokens.Logger).child({ component: 'http' }); }

  async start(): Promise<void> {
    const c = this.container;
    const loaded = c.get<LoadedConfig>(Tokens.LoadedConfig);
    const config = loaded.config;
    const db = c.get<Database>(Tokens.Database);
    const workflows = c.get<WorkflowRegistry>(Tokens.Workflows);
    const sftp = c.get<SftpService>(Tokens.SftpServer);
    this.metrics = new FluxgateMetrics(db, c.get<UploadEvents>(Tokens.UploadEvents));
    const deps: HttpDeps = {
      loaded, config, db, log: this.log,
      paths: c.get<DataPaths>(Tokens.Paths),
      accounts: c.get<AccountService>(Tokens.AccountService),
      operators: new OperatorService(db),
      audit: new AuditRepository(db),
      workflows,
      workflowSources: { dir: workflows.dir, steps: c.get<StepRegistry>(Tokens.Steps).all, handlers: c.get<HandlerRegistry>(Tokens.Handlers) },
      jobs: c.get<Jobs>(Tokens.Jobs),
      pgpKeys: c.get<ServerKeyStore>(Tokens.PgpKeys),
      metrics: this.metrics,
      ready: () => db.prepare('SELECT 1').pluck().get() === 1 && sftp.address() !== undefined && workflows.all.length > 0,
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
    const { host, tls } = this.container.get<LoadedConfig>(Tokens.LoadedConfig).config.http;
    if (this.port === undefined) return undefined;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${tls ? 'https' : 'http'}://${shown}:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.metrics?.close();
  }
}
