// The server-level suites test/run.mjs runs a second time on PostgreSQL (FLUXGATE_TEST_STORE=postgres:
// each test server and CLI run gets a database of its own, test/helpers/test-store.ts), beside the
// SQLite pass: issue #20 asks that the engine, account and job suites run on both engines. The
// repositories' own behaviour is tested on both by test/integration/store-contract-*.test.ts;
// these suites check that the server and the CLI built on them behave the same end to end.
// One place for the list: add a suite here, with why, once it reads the store through
// TestServer.store() / query() or the probes (never the SQLite file).
export const POSTGRES_SUITES = [
  // engine: intake → queue → workflow → journal, receipts and reports, through a real SFTP client
  { file: 'test/e2e/engine-exchange.test.ts', why: 'the engine end to end: journal states, attempts, replay, files CLI' },
  { file: 'test/e2e/engine-crash.test.ts', why: 'a SIGKILL mid-processing: the restart resumes from the store exactly once' },
  { file: 'test/e2e/engine-crash-report.test.ts', why: 'a crash while the report is written: one report, one interrupted event' },
  { file: 'test/e2e/engine-crash-sal-conflict.test.ts', why: 'a crash mid-batch of sal: the directory (PostgreSQL directory repository) applied once' },
  { file: 'test/e2e/engine-crash-intake-race.test.ts', why: 'a second node\'s slow scan records nothing twice: one journal entry per upload (the upload identity on PostgreSQL)' },
  { file: 'test/e2e/engine-retry-limits.test.ts', why: 'retries, attempts and replay limits recorded in the journal and queue' },
  { file: 'test/e2e/engine-retry-dropbox.test.ts', why: 'a drop-box file retried: the queue\'s backoff and the journal\'s timeline' },
  { file: 'test/e2e/engine-burst.test.ts', why: 'many files at once: the queue\'s claims and per-account room' },
  { file: 'test/integration/engine-options.test.ts', why: 'the engine\'s options (concurrency, per-account room, leases) over the queue' },
  { file: 'test/integration/intake-watcher.test.ts', why: 'intake records each upload once (recordUpload, the live-location unique index)' },
  { file: 'test/integration/intake-watch-scope.test.ts', why: 'intake watches the accounts the store lists' },
  { file: 'test/integration/intake-scan.test.ts', why: 'the periodic scan journals what the watcher missed, once, for accounts added while it runs' },
  { file: 'test/integration/workflow-last-good.test.ts', why: 'a workflow\'s last good definition kept in the store (workflow versions)' },
  { file: 'test/integration/workflow-hot-reload.test.ts', why: 'a workflow edited while the server runs: versions recorded and files processed by the new one' },
  { file: 'test/integration/workflow-ambiguous-match.test.ts', why: 'a file two workflows match: paused, then resumed after the fix' },
  { file: 'test/integration/journal-client-address.test.ts', why: 'the journal keeps the client address of each upload' },
  { file: 'test/e2e/fixtures-exchange.test.ts', why: 'the real sal / sir / usr / dis fixtures applied to the directory (PostgreSQL directory repository)' },
  { file: 'test/e2e/fixtures-dropbox.test.ts', why: 'drop-box CSV and XLSX employee files applied to the directory' },
  { file: 'test/e2e/employees-absent-columns.test.ts', why: 'columns a file leaves out keep their stored values (ABSENT_FIELDS merged by the PostgreSQL directory)' },
  { file: 'test/e2e/report-names.test.ts', why: 'receipt and report names reserved in the journal (outputs), a retry reusing its own' },
  { file: 'test/integration/workflow-signing-handoff.test.ts', why: 'the next file of an account starts while the previous one\'s outputs are signed: the journal\'s order' },
  // accounts: the CLI, the API and the SFTP server on the accounts repository (change stamp, keys, removal)
  { file: 'test/integration/cli-accounts.test.ts', why: 'account / key commands: created, shown, updated, disabled, keys added and expired' },
  { file: 'test/integration/cli-account-import.test.ts', why: 'account import / export: insertAccounts\' skip-if-exists, refused rows write nothing' },
  { file: 'test/integration/account-remove.test.ts', why: 'account remove: live leases (pid and host), the rows deleted in one unit of work, a SIGKILL mid-run' },
  { file: 'test/e2e/account-remove.test.ts', why: 'account remove of an account with processed files, its directory and journal exported' },
  { file: 'test/integration/sftp-revocation.test.ts', why: 'a disable or key removal ends open sessions: the change stamp (account_changes on PostgreSQL)' },
  { file: 'test/integration/sftp-revocation-requests.test.ts', why: 'no request of a revoked session succeeds once the command returned' },
  { file: 'test/integration/sftp-auth.test.ts', why: 'logins: keys (expired, weak, marked), passwords, allowlists, disabled accounts, read from the store' },
  { file: 'test/integration/sftp-bruteforce.test.ts', why: 'failures ban the address; a password login\'s hash read from the store' },
  { file: 'test/integration/sftp-bans-store.test.ts', why: 'brute-force bans kept in the store and shared (the bans repository)' },
  { file: 'test/integration/sftp-bruteforce-scope.test.ts', why: 'what counts towards a ban, per address and account' },
  { file: 'test/integration/http-account-operations.test.ts', why: 'the API\'s account import / export and tombstones' },
  // jobs: retention, account inactivity, key expiry and the cron runs that record them
  { file: 'test/integration/jobs-accounts.test.ts', why: 'inactivity disables then purges (purgeRows), key expiry warns and expires (warnKey / expireKey)' },
  { file: 'test/integration/jobs-key-expiry.test.ts', why: 'a run dated before an earlier one changes nothing of an expired key' },
  { file: 'test/integration/cron-runs.test.ts', why: 'run records, a job held by another process (advisory lock on PostgreSQL), a failed run, history' },
  { file: 'test/integration/retention-rules.test.ts', why: 'retention rules, tombstones and the first-seen registry (replaceSeen)' },
  { file: 'test/integration/retention-crash.test.ts', why: 'a retention run killed mid-way: no file deleted twice, each deletion with its tombstone' },
  { file: 'test/e2e/retention-sftp.test.ts', why: 'retention over files uploaded and processed by the server: the journal\'s dates and states' },
  { file: 'test/e2e/retention-rewritten-report.test.ts', why: 'a report rewritten by a replay: outputs and tombstones per writer' },
  { file: 'test/integration/jobs-housekeeping.test.ts', why: 'housekeeping deletes old done jobs and finished events with their deliveries, in chunks (HousekeepingRepository)' },
  { file: 'test/integration/expectations.test.ts', why: 'the expectations job: late / missed / recovered raised once (ExpectationRepository.raise)' },
  { file: 'test/e2e/jobs-sftp-login.test.ts', why: 'serve schedules the jobs; an expired key and a purged account no longer log in' },
];
