import { AccountService } from '../../core/accounts/account-service';
import type { DataPaths } from '../../core/config/paths';
import type { FluxgateConfig } from '../../core/config/schema';
import type { Database } from '../../core/store/database';
import type { Store } from '../../core/store/ports/store';
import { SqliteStore } from '../../core/store/sqlite-store';

/** The AccountService the server and the CLI build, on a store a test opened itself (either engine: TestServer.store()). */
export function accountServiceFor(store: Store, paths: DataPaths, config: FluxgateConfig): AccountService {
  return new AccountService(store.accounts, store.accountData, paths, config);
}

/** The AccountService the server and the CLI build, on a SQLite database a test opened itself. */
export function accountServiceOn(db: Database, paths: DataPaths, config: FluxgateConfig): AccountService {
  return accountServiceFor(new SqliteStore(db), paths, config);
}
