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
  { file: 'test/e2e/engine-retry-limits.test.ts', why: 'retries, attempts and replay limits recorded in the journal and queue' },
  { file: 'test/e2e/engine-retry-dropbox.test.ts', why: 'a drop-box file retried: the queue\'s backoff and the journal\'s timeline' },
  { file: 'test/e2e/engine-burst.test.ts', why: 'many files at once: the queue\'s claims and per-account room' },
];
