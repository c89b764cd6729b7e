import 'reflect-metadata';
import { Container } from 'inversify';
import type { LoadedConfig } from './config/load';
import { DataPaths } from './config/paths';
import type { Logger } from './logging/logger';
import { openDatabase } from './store/database';
import { WalCheckpointer } from './store/wal-checkpointer';
import { AccountRepository } from './store/accounts-repository';
import { DirectoryRepository } from './store/directory-repository';
import { Tokens } from './tokens';
import { UploadEvents } from './events';
import { AccountService } from './accounts/account-service';
import { SftpService } from './sftp/sftp-service';
import { bindEngine } from './workflow/bindings';
import { buildJobs } from './cron/build';
import { CronService } from './cron/service';
import { ServerKeyStore } from './pgp/server-key';
import { PgpOutputSigner } from './pgp/output-signer';
import { PgpService } from './pgp/pgp-service';
import { HttpService } from './http/http-service';

export interface ContainerOptions {
  loaded: LoadedConfig;
  logger: Logger;
}

/**
 * The composition root: the one place where the container is assembled.
 * Services bound under Tokens.Service are started by `serve` in binding order.
 */
export function createContainer({ loaded, logger }: ContainerOptions): Container {
  const container = new Container();
  const paths = new DataPaths(loaded.dataDir);
  const db = openDatabase(paths.database);

  // configuration and state
  container.bind(Tokens.LoadedConfig).toConstantValue(loaded);
  container.bind(Tokens.Config).toConstantValue(loaded.config);
  container.bind(Tokens.Logger).toConstantValue(logger);
  container.bind(Tokens.Paths).toConstantValue(paths);
  container.bind(Tokens.Database).toConstantValue(db);
  container.bind(Tokens.Accounts).toConstantValue(new AccountRepository(db));
  container.bind(Tokens.UploadEvents).toConstantValue(new UploadEvents());
  // First service: started before and stopped after everything that writes.
  const walCheckpointer = new WalCheckpointer(db, logger);
  container.bind(Tokens.Service).toConstantValue(walCheckpointer);

  // Each part adds its bindings in its own section. Services start in this order
  // (and stop in reverse): the engine is ready before the SFTP server accepts uploads.

  // -- directory store (plugins' data) --
  container.bind(Tokens.Directory).toConstantValue(new DirectoryRepository(db, { afterWrite: () => walCheckpointer.noteWrite() }));

  // -- engine: journal, queue, workflows, plugins, intake --
  bindEngine(container, { loaded, paths, db, logger });

  // -- pgp --
  container.bind(Tokens.PgpKeys).to(ServerKeyStore).inSingletonScope();
  if (loaded.config.pgp.signReports) container.bind(Tokens.OutputSigner).to(PgpOutputSigner).inSingletonScope();
  container.bind(Tokens.Service).to(PgpService).inSingletonScope();

  // -- cron jobs --
  const jobs = buildJobs({ config: loaded.config, paths, db, accounts: container.get<AccountRepository>(Tokens.Accounts), logger });
  container.bind(Tokens.Jobs).toConstantValue(jobs);
  container.bind(Tokens.Service).toConstantValue(new CronService(loaded.config, jobs.registry, jobs.runner, jobs.runs, logger));

  // -- sftp server (last: accepts uploads once everything else runs) --
  container.bind(Tokens.AccountService).to(AccountService).inSingletonScope();
  container.bind(Tokens.SftpServer).to(SftpService).inSingletonScope();
  container.bind(Tokens.Service).toService(Tokens.SftpServer);

  // -- operator plane: REST API, OpenAPI, /metrics, probes (after SFTP: /readyz reports on it) --
  if (loaded.config.http.enabled) {
    container.bind(Tokens.HttpServer).toConstantValue(new HttpService(container));
    container.bind(Tokens.Service).toService(Tokens.HttpServer);
  }

  return container;
}
