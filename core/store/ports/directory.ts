import type { DirectoryStore } from '../../plugin-api/directory';

/**
 * The HR directory (organizations, employees, users, documents), as the engine reaches it: the
 * plugin API's DirectoryStore (core/plugin-api/directory.ts), every method async and taking the
 * account id, and `batch(accountId, ops)` its unit of work (the operations in order in one
 * transaction, all or none). Defined in the plugin API because plugins see it bound to their
 * file's account (ctx.directory) and the SDK implements it in memory; one implementation per
 * engine here: SqliteDirectoryRepository (core/store/directory-repository.ts), PostgreSQL next.
 * Opened for a sandbox's worker by openDirectory (core/store/directory-factory.ts).
 */
export type DirectoryRepository = DirectoryStore;
