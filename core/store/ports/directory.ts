import type { DirectoryStore, WriteOptions } from '../../plugin-api/directory';

/**
 * The HR directory (organizations, employees, users, documents), as the engine reaches it: the
 * plugin API's DirectoryStore (core/plugin-api/directory.ts), every method async and taking the
 * account id, and `batch(accountId, ops)` its unit of work (the operations in order in one
 * transaction, all or none). Defined in the plugin API because plugins see it bound to their
 * file's account (ctx.directory) and the SDK implements it in memory; one implementation per
 * engine here: SqliteDirectoryRepository (core/store/directory-repository.ts), PostgreSQL next.
 * Opened for a sandbox's worker by openDirectory (core/store/directory-factory.ts).
 *
 * Beyond the plugin API (plugins never see it): createEmployeeRows, the engine's way to apply a
 * batch of new employees that arrives as flat values (a sandbox's, core/sandbox/batch-wire.ts).
 */
export interface DirectoryRepository extends DirectoryStore {
  /**
   * What `batch` of one createEmployee per row, all with `options`, does and answers (one
   * transaction, all or none; an error names the row as `details.operation`), without an
   * Employee object per row: a sandboxed sal file's 200,000 rows are bound from the values as
   * they arrive. The caller has checked every value (EmployeeRows); the account is the caller's.
   */
  createEmployeeRows(accountId: string, rows: EmployeeRows, options?: WriteOptions): Promise<boolean[]>;
}

/**
 * New employees as flat values. Row r starts at `values[rows[2r]]`: the employee's core fields
 * in EMPLOYEE_FIELDS order (core/store/employee-rows.ts), then its attribute values in the order
 * of the names `shapes[rows[2r + 1]]`. Every value is a string, number, boolean or null, and a
 * shape names each attribute once (what the caller checks).
 */
export interface EmployeeRows {
  readonly values: readonly unknown[];
  readonly rows: readonly number[];
  readonly shapes: ReadonlyArray<readonly string[]>;
}
