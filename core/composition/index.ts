import { AccountService } from '../accounts/account-service';
import { NodeHeartbeat } from '../cluster/node-heartbeat';
import type { LoadedConfig } from '../config/load';
import type { HttpService } from '../http/http-service';
import type { Logger } from '../logging/logger';
import { PgpOutputSigner } from '../pgp/output-signer';
import { PgpService } from '../pgp/pgp-service';
import { ServerKeyStore } from '../pgp/server-key';
import { SftpService } from '../sftp/sftp-service';
import type { OutputSigner, Service } from '../tokens';
import { composeEngine, type Engine } from './engine';
import { composeHttp } from './http';
import { composeNotify } from './notify';
import { buildJobs, composeCron, type Jobs } from './jobs';
import { composeState, type State } from './state';

export interface ComposeOptions {
  loaded: LoadedConfig;
  logger: Logger;
}

/** The assembled server: its parts, typed, and its services in start order. */
export interface Composition {
  readonly logger: Logger;
  readonly state: State;
  readonly engine: Engine;
  readonly pgp: { keys: ServerKeyStore; signer?: OutputSigner };
  readonly jobs: Jobs;
  readonly accountService: AccountService;
  readonly sftp: SftpService;
  /** The operator API, unless `http.enabled` is false. */
  readonly http?: HttpService;
  /** Long-running parts, in start order (stopped in reverse): core/app.ts. */
  readonly services: readonly Service[];
  /** Closes the store (PostgreSQL: ends its pool), once the services have stopped. */
  close(): Promise<void>;
}

/**
 * The composition root: the one place where the server's parts are built and given to each
 * other. Every part receives what it uses, typed, through its constructor; nothing below this
 * folder sees a container or looks a service up (docs/architecture.md). Services start in this
 * order, and stop in reverse: the WAL checkpointer (SQLite) before anything writes, the engine
 * before the SFTP server accepts uploads. The store is closed last (core/app.ts).
 */
export async function compose({ loaded, logger }: ComposeOptions): Promise<Composition> {
  const state = await composeState(loaded, logger);
  try {
    return await composeOn(state);
  } catch (err) {
    await state.close(); // e.g. a plugin module that does not load: nothing was started
    throw err;
  }
}

async function composeOn(state: State): Promise<Composition> {
  const { loaded, config, paths, logger } = state;
  const keys = new ServerKeyStore(paths, loaded, logger);
  const pgp = { keys, signer: config.pgp.signReports ? new PgpOutputSigner(keys, config, logger) : undefined };
  const engine = await composeEngine(state, pgp);
  const jobs = buildJobs({ config, paths, store: state.store, logger });
  const accountService = new AccountService(state.store.accounts, state.store.accountData, paths, config);
  const sftp = new SftpService(config, logger, paths, state.store.accounts, state.uploads, loaded, state.store.bans);
  const http = composeHttp(state, engine, { accounts: accountService, jobs, pgpKeys: keys, sftp });
  const notify = composeNotify(state);
  const heartbeat = new NodeHeartbeat(state.store.nodes, () => sftp.identity(), logger);

  const services: Service[] = [
    ...state.storeServices, // SQLite's WAL checkpointer, before anything writes
    heartbeat, // records this node once all listen; stops after the others (marks it stopped)
    ...engine.services,
    new PgpService(keys, state.store.accounts, paths, config, logger),
    composeCron(jobs, config, logger),
    notify.dispatcher, // delivers the outbox (events of the parts above)
    sftp, // accepts uploads once everything else runs
    ...(http ? [http] : []), // reports on all the above (/readyz: SFTP listens)
  ];
  return { logger, state, engine, pgp, jobs, accountService, sftp, http, services, close: () => state.close() };
}
