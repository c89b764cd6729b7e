import { dirname } from 'node:path';
import type { DataPaths } from '../config/paths';

/** The name of each of an account's data roots: also the sub-folder it goes to when the account is removed. */
export type DataRootName = 'sftp' | 'archive' | 'quarantine' | 'vault' | 'work';

export interface DataRoot {
  name: DataRootName;
  /** `<data>/<name>/<account id>`. */
  path: string;
}

/**
 * Everywhere an account's files live: its SFTP tree, archive, quarantine, vault and work space.
 * Purge deletes them, removal moves them aside: a root missing here would outlive both.
 */
export function namedDataRoots(paths: DataPaths, accountId: string): DataRoot[] {
  return [
    { name: 'sftp', path: paths.accountRoot(accountId) },
    { name: 'archive', path: dirname(paths.archive(accountId, 'x')) },
    { name: 'quarantine', path: dirname(paths.quarantine(accountId, 'x')) },
    { name: 'vault', path: paths.vault(accountId) },
    { name: 'work', path: paths.work(accountId) },
  ];
}
