import type { AccountService } from '../accounts/account-service';
import type { Jobs } from '../cron/jobs';
import { HttpService } from '../http/http-service';
import type { ServerKeyStore } from '../pgp/server-key';
import type { SftpService } from '../sftp/sftp-service';
import type { Engine } from './engine';
import type { State } from './state';

/** The operator plane (REST API, OpenAPI, /metrics, probes), when `http.enabled`. */
export function composeHttp(state: State, engine: Engine, parts: { accounts: AccountService; jobs: Jobs; pgpKeys: ServerKeyStore; sftp: SftpService }): HttpService | undefined {
  if (!state.config.http.enabled) return undefined;
  return new HttpService({
    loaded: state.loaded, store: state.store, directory: state.directory, logger: state.logger, paths: state.paths, uploads: state.uploads,
    journal: engine.journal, files: engine.files, workflows: engine.workflows, steps: engine.steps, handlers: engine.handlers,
    ...parts,
  });
}
