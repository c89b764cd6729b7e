/**
 * The HR directory as plugins see it (organizations, employees, users, documents).
 * Implementation: core/store/directory-repository.ts. Writes return what they did,
 * so handlers can report created / updated / unchanged per row.
 */
export type ChangeKind = 'created' | 'updated' | 'unchanged';

export interface DirectoryStore {
  /** Runs fn in one transaction: all of it applies, or none. */
  transaction<T>(fn: () => T): T;
}
