import { AccountService } from '../../core/accounts/account-service';
import type { DataPaths } from '../../core/config/paths';
import type { FluxgateConfig } from '../../core/config/schema';
import type { Database } from '../../core/store/database';
import { SqliteStore } from '../../core/store/sqlite-store';

/** The AccountService the server and the CLI build, on a database a test opened itself. */
export function accountServiceOn(db: Database, paths: DataPaths, config: FluxgateConfig): AccountService {
  const store = new SqliteStore(db);
  return new AccountService(store.accounts, store.accountData, paths, config);
}
