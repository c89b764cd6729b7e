import type { Migration } from '../../migrations/types';

/**
 * SQLite's 018, and what fills it here: one row counting the committed changes to accounts and
 * their keys, bumped by a trigger in the transaction of each change, whichever node (or `store
 * copy`, or a future writer) makes it. `AccountRepository.changeStamp()` reads it: a value that
 * moves when another node disables an account or removes a key, visible exactly when that change
 * is (a sequence would move before the commit, and a session could cache the new value with the
 * old row). A login's `last_login_at` alone does not bump it: it revokes nothing.
 */
export const pgAccountChangesMigration: Migration = {
  version: 18,
  name: 'account-changes',
  sql: `
    CREATE TABLE account_changes (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      changes BIGINT NOT NULL
    );
    CREATE FUNCTION fluxgate_account_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO account_changes (id, changes) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET changes = account_changes.changes + 1;
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER accounts_changed
      AFTER INSERT OR DELETE OR UPDATE OF id, profile, partner, enabled, disabled_reason, disabled_at, allow_ips, password_hash, options, created_at, purged_at
      ON accounts FOR EACH STATEMENT EXECUTE FUNCTION fluxgate_account_changed();
    CREATE TRIGGER accounts_truncated AFTER TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION fluxgate_account_changed();
    CREATE TRIGGER account_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON account_keys
      FOR EACH STATEMENT EXECUTE FUNCTION fluxgate_account_changed();
  `,
};
