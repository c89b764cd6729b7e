/**
 * The catalogue of fluxgate error codes. Every user-visible failure carries one of these
 * codes, so tests, reports and operators can match on it rather than on wording.
 * Add new codes here, grouped by the part of the system that raises them.
 */
export const ERROR_CODES = {
  // configuration and CLI
  FG_CONFIG: 'the configuration is invalid',
  FG_USAGE: 'bad command-line arguments',
  FG_DATA_DIR: 'the data directory cannot be used',
  FG_DATA_DIR_LOCKED: 'another fluxgate server runs on this data directory',
  FG_NODE_ID_TAKEN: 'another fluxgate server runs with this node id (cluster.nodeId) on the PostgreSQL store',
  FG_NOT_BUILT: 'the server is not built (dist/ is missing): run `npm run build` in its directory',
  // accounts and keys
  FG_ACCOUNT_EXISTS: 'an account with this id already exists',
  FG_ACCOUNT_NOT_FOUND: 'no such account',
  FG_ACCOUNT_CONFLICT: 'the account exists with other settings than the ones given',
  FG_ACCOUNT_PROFILE: 'the account profile is exchange or dropbox',
  FG_ACCOUNT_ID: 'account ids are 1-32 characters: lower-case letters, digits, "-" and "_"',
  FG_PARTNER_ID: 'partner ids are 1-32 characters: letters, digits and "-"',
  FG_PASSWORD_WEAK: 'the password is too short',
  FG_ACCOUNT_DISABLED: 'the account is disabled',
  FG_ACCOUNT_PURGED: 'the account was purged: remove it and add it again',
  FG_ACCOUNT_BUSY: 'a file of the account is being processed: retry in a moment',
  FG_ACCOUNT_LEFTOVERS: 'data of a removed account with this id remains: run `fluxgate account remove <id>` first',
  FG_KEY_INVALID: 'the public key cannot be read',
  FG_KEY_PRIVATE: 'a private key was given where a public key is expected',
  FG_KEY_WEAK: 'the key type or size is not accepted',
  FG_KEY_EXPIRED: 'the key has expired',
  FG_KEY_EXISTS: 'the key is already registered for this account',
  FG_KEY_NOT_FOUND: 'no such key for this account',
  FG_ALLOWLIST: 'the IP allowlist is invalid',
  // SFTP access
  FG_AUTH_FAILED: 'authentication failed',
  FG_IP_NOT_ALLOWED: 'the client address is not in the account allowlist',
  FG_IP_BANNED: 'the client address is temporarily banned after repeated failures',
  FG_PERMISSION_DENIED: 'the operation is not permitted here',
  FG_NO_SUCH_FILE: 'no such file or directory',
  FG_PATH_ESCAPE: 'the path leaves the account root',
  FG_PATH_INVALID: 'the path is not acceptable',
  FG_FILE_EXISTS: 'a file with this name already exists',
  FG_DISK_FULL: 'an upload failed: no space left on the server (or its disk quota exceeded)',
  FG_WRITE_FAILED: 'an upload failed: its data could not be written on the server',
  FG_UPLOAD_FAILED: 'the upload failed, so it cannot be completed (published)',
  FG_LIMIT: 'a server limit was reached (open handles, sessions, connections, files): see the message for which',
  FG_PROXY_UNTRUSTED: 'a PROXY protocol header came from an address not in cluster.trustedProxies: the connection was refused',
  FG_PROXY_HEADER: 'a connection from a trusted proxy did not start with a valid PROXY protocol header: the connection was refused',
  // intake, workflows, plugins
  FG_NAME_CONVENTION: 'the file name does not follow the naming convention',
  FG_NAME_INVISIBLE: 'the file name contains an invisible or control character',
  FG_ALREADY_JOURNALED: 'this file (same account, path, inode, modification time and size) already has a journal entry: it is not taken in twice',
  FG_NO_WORKFLOW: 'no workflow matches this file',
  FG_WORKFLOW_AMBIGUOUS: 'several workflows match this file (their patterns overlap)',
  FG_WORKFLOW_INVALID: 'the workflow definition is invalid',
  FG_PLUGIN_NOT_FOUND: 'no handler is registered for this flux',
  FG_PLUGIN_PERMISSION: 'the plugin tried to use a path or capability its manifest does not grant',
  FG_PLUGIN_INVALID: 'the plugin cannot be loaded',
  FG_HANDLER_FAILED: 'the flux handler failed',
  FG_PLUGIN_CRASHED: 'the plugin\'s sandbox process ended before the handler returned (a crash or an exit)',
  FG_PLUGIN_TIMEOUT: 'the plugin took longer than its limits.secondsPerFile and was stopped',
  FG_PLUGIN_MEMORY: 'the plugin went over its limits.memoryMb and was stopped',
  FG_FORWARD_FAILED: 'the file could not be forwarded',
  FG_FILE_NOT_FOUND: 'no such file in the journal',
  FG_REPLAY: 'the file cannot be replayed',
  FG_CURSOR: 'the page cursor is not one a previous page of this listing gave',
  FG_TEST_FILE: 'test file: validated and reported, not applied in production',
  // file-level content problems
  FG_EMPTY_FILE: 'the file is empty',
  FG_ENCODING: 'the file is not valid UTF-8',
  FG_UTF16: 'the file is encoded in UTF-16, not UTF-8',
  FG_SPREADSHEET_AS_CSV: 'the file is a spreadsheet, not a CSV text file',
  FG_SEPARATOR: 'the file does not use the expected separator',
  FG_MISSING_COLUMN: 'a required column is missing',
  FG_DUP_COLUMN: 'a column name appears twice',
  FG_UNTERMINATED_QUOTE: 'a quoted value is not terminated',
  FG_CSV: 'the file cannot be parsed as CSV',
  FG_XLSX: 'the workbook cannot be read',
  FG_ZIP: 'the archive cannot be read',
  FG_ZIP_UNSAFE: 'the archive is unsafe',
  FG_ZIP_LIMIT: 'the archive exceeds a configured limit',
  FG_ZIP_PAIRING: 'a document of the archive has no metadata file, or a metadata file no document',
  FG_NOT_PDF: 'the document is not a PDF file',
  // row-level content problems
  FG_REQUIRED: 'a required value is missing',
  FG_MAXLEN: 'the value is too long',
  FG_DATE: 'the value is not a real date in YYYY-MM-DD form',
  FG_BOOL: 'the value is not true or false',
  FG_COUNTRY: 'the value is not an ISO 3166 alpha-2 country code',
  FG_EMAIL: 'the value is not an e-mail address',
  FG_DUP_IN_FILE: 'the same key appears twice in the file with different data',
  FG_UNKNOWN_REF: 'the value refers to something that does not exist',
  FG_CYCLE: 'the reference forms a cycle',
  FG_FIELD_COUNT: 'the row does not have as many fields as the header',
  FG_INVALID_VALUE: 'the value is not acceptable',
  // PGP
  FG_DECRYPT: 'the file cannot be decrypted',
  FG_ENCRYPTION_REQUIRED: 'this account only accepts encrypted uploads',
  FG_PGP: 'PGP operation failed',
  // jobs
  FG_JOB_NOT_FOUND: 'no such job',
  FG_JOB_RUNNING: 'the job is already running',
  FG_JOB_SLOT_TAKEN: 'this scheduled run of the job was already begun, by this node or another',
  FG_HOUSEKEEPING: 'the housekeeping job could not delete a chunk of old rows: the next run retries',
  FG_LEASE_LOST: 'the queue lease on this job ran out and another worker took it over: this worker\'s result is not recorded',
  // events and notifications (core/notify)
  FG_DELIVERY_NOT_FOUND: 'no such delivery',
  FG_DELIVERY_STATE: 'the delivery is not in a state that allows this',
  FG_WEBHOOK_FAILED: 'the webhook endpoint did not answer 2xx in time',
  FG_EMAIL_FAILED: 'the SMTP server did not accept the mail',
  FG_EXPECTATION_NOT_FOUND: 'no such expectation',
  FG_EXPECTATION_EXISTS: 'an expectation with this name already exists',
  FG_SUBSCRIPTION_NOT_FOUND: 'no such subscription',
  FG_SUBSCRIPTION_EXISTS: 'a subscription with this name already exists',
  // operator plane (HTTP API, operators, tokens)
  FG_UNAUTHENTICATED: 'no valid credentials: give a bearer token (Authorization: Bearer <token>)',
  FG_FORBIDDEN: 'the operator role does not allow this',
  FG_RATE_LIMITED: 'too many failed logins from this address or for this name: retry later',
  FG_BAD_REQUEST: 'the request is invalid',
  FG_CSRF: 'a change made with the console session has no valid CSRF token',
  FG_NOT_FOUND: 'no such route',
  FG_OPERATOR_NAME: 'operator and token names are 1-64 characters: letters, digits, ".", "_", "@" and "-"',
  FG_OPERATOR_EXISTS: 'an operator with this name already exists',
  FG_OPERATOR_NOT_FOUND: 'no such operator',
  FG_TOKEN_EXISTS: 'a token with this name already exists',
  FG_TOKEN_NOT_FOUND: 'no such token',
  FG_HTTP: 'the HTTP listener cannot start',
  FG_BAN_NOT_FOUND: 'this address is not banned',
  // the store's engine (PostgreSQL tooling: core/store/postgres, `fluxgate store`)
  FG_STORE_NOT_MIGRATED: 'the PostgreSQL store\'s schema is missing or older than this fluxgate: run `fluxgate store migrate`',
  FG_STORE_UNREACHABLE: 'the PostgreSQL server cannot be reached',
  FG_STORE_AUTH: 'the PostgreSQL server refused the user name or password',
  FG_STORE_NO_DATABASE: 'the PostgreSQL database does not exist',
  FG_STORE_NOT_EMPTY: 'the PostgreSQL database already holds fluxgate data: `store copy` only fills an empty one',
  FG_STORE_SCHEMA: 'the two stores\' schemas do not match (a migration is missing on one engine)',
  FG_STORE_COPY: 'the copy to PostgreSQL failed and was rolled back: nothing was written',
  FG_STORE_VALUE: 'the store cannot hold a value given to it (a text with a NUL character, which PostgreSQL cannot store)',
  FG_STORE: 'the PostgreSQL server refused an operation of the store',
  // anything else
  FG_INTERNAL: 'internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class FluxgateError extends Error {
  override readonly name = 'FluxgateError';
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function isFluxgateError(err: unknown, code?: ErrorCode): err is FluxgateError {
  return err instanceof FluxgateError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a FluxgateError, keeping codes that are already there. */
export function toFluxgateError(err: unknown, fallback: ErrorCode = 'FG_INTERNAL'): FluxgateError {
  if (err instanceof FluxgateError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FluxgateError(fallback, message, {}, { cause: err });
}
