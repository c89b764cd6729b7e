import cron from 'node-cron';
import { isIP } from 'node:net';
import { z } from 'zod';
import { eventsSchema, expectationsSchema } from './events-schema';
import { DEFAULT_STORE_POOL_SIZE } from './store-pool';
import { storeUrlProblem } from './store-url';

/**
 * The configuration file format (YAML). Every key has an embedded default, so
 * `fluxgate serve` runs with no file at all. Each part of the engine owns one section.
 */

const days = z.number().int().nonnegative();

export const SFTP_ALGORITHMS = {
  // ssh2 cannot do sntrup761x25519-sha512 nor diffie-hellman-group-exchange-* as a server.
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'diffie-hellman-group18-sha512',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group14-sha256',
  ],
  serverHostKey: ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256'],
  cipher: [
    'chacha20-poly1305@openssh.com',
    'aes256-gcm@openssh.com',
    'aes128-gcm@openssh.com',
    'aes256-ctr',
    'aes128-ctr',
  ],
  hmac: [
    'hmac-sha2-512-etm@openssh.com',
    'hmac-sha2-256-etm@openssh.com',
    'hmac-sha2-512',
    'hmac-sha2-256',
  ],
  compress: ['none', 'zlib@openssh.com'],
} as const;

const sftpSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(2222),
  algorithms: z.strictObject({
    kex: z.array(z.string()).min(1).default([...SFTP_ALGORITHMS.kex]),
    serverHostKey: z.array(z.string()).min(1).default([...SFTP_ALGORITHMS.serverHostKey]),
    cipher: z.array(z.string()).min(1).default([...SFTP_ALGORITHMS.cipher]),
    hmac: z.array(z.string()).min(1).default([...SFTP_ALGORITHMS.hmac]),
    compress: z.array(z.string()).min(1).default([...SFTP_ALGORITHMS.compress]),
  }).prefault({}),
  /** ECDSA user keys are refused unless enabled here. */
  allowEcdsa: z.boolean().default(false),
  minRsaBits: z.number().int().min(2048).default(3072),
  /** Per-session bound on SFTP WRITE requests being written to disk at once. */
  maxInflightWrites: z.number().int().min(1).default(64),
  idleTimeoutSeconds: z.number().int().min(0).default(900),
  /** Like OpenSSH's LoginGraceTime: a connection not logged in after this long is closed (and counts as one failure). */
  loginGraceSeconds: z.number().int().min(1).default(30),
  /** Like OpenSSH's MaxStartups: connections not logged in yet, in total; more are refused at once. */
  maxStartups: z.number().int().min(1).default(100),
  /** Like OpenSSH's PerSourceMaxStartups: connections not logged in yet from one address; more are refused at once. */
  maxStartupsPerAddress: z.number().int().min(1).default(16),
  /**
   * Open logins are re-checked against the accounts table this often (and before every SFTP
   * request): removed, disabled or re-keyed accounts lose their sessions.
   */
  sessionRecheckSeconds: z.number().int().min(1).default(5),
  maxAllowIps: z.number().int().min(1).max(254).default(254),
  /** What one account (or the whole server) may hold at once; see docs/sftp.md "Limits". */
  limits: z.strictObject({
    /** Logged-in SSH connections of one account (SFTPGo's max_sessions); bench:burst runs 50 at once. */
    connectionsPerAccount: z.number().int().min(1).default(100),
    /** Like OpenSSH's MaxSessions: SSH session channels (each may run one SFTP subsystem) on one connection. */
    sessionsPerConnection: z.number().int().min(1).default(10),
    /** SSH session channels of one account over all its connections. */
    sessionsPerAccount: z.number().int().min(1).default(200),
    /** Open file and directory handles of one SFTP session (what limits@openssh.com reports). */
    handlesPerSession: z.number().int().min(1).default(256),
    /** Open handles of one account over all its sessions: each holds a file descriptor. */
    handlesPerAccount: z.number().int().min(1).default(1024),
    /**
     * File descriptors kept out of the SFTP handles' reach, for logins, the store, intake and the
     * engine. Default: a quarter of the process's open-file limit (`ulimit -n`), at least 256.
     */
    descriptorHeadroom: z.number().int().min(0).optional(),
    /** Open handles of all sessions together. Default, and at most: the open-file limit less the headroom. */
    handlesTotal: z.number().int().min(1).optional(),
    /** Files (uploads in progress included) an account may keep in dev/, its scratch area. */
    devFilesPerAccount: z.number().int().min(1).default(10_000),
  }).prefault({}),
  bruteForce: z.strictObject({
    maxFailures: z.number().int().min(1).default(10),
    windowSeconds: z.number().int().min(1).default(300),
    banSeconds: z.number().int().min(1).default(900),
  }).prefault({}),
  /**
   * Largest file an upload may make, in bytes (a .filepart counts with what it already holds).
   * A WRITE past it is refused and the upload is never published. 4 GiB: twice the largest
   * document archive (dis) that documents.maxTotalUncompressedBytes lets through by default;
   * HR data files are far smaller (200,000 sal rows: ~40 MB).
   */
  maxUploadBytes: z.number().int().min(1).default(4 * 1024 ** 3),
  /** Mode given to uploaded files, whatever the client asks for. */
  fileMode: z.number().int().default(0o640),
  /**
   * Host keys directory (default `<data>/hostkeys`; relative to the config file). Nodes that
   * share one set of host keys, or test servers that should not each generate RSA 4096, point here.
   */
  hostKeysDir: z.string().optional(),
  /**
   * fdatasync each upload before it is published (and a receipt can be issued for it).
   * Off trades that guarantee for throughput, as OpenSSH's sftp-server does.
   */
  fsyncUploads: z.boolean().default(true),
}).prefault({});

const engineSchema = z.strictObject({
  concurrency: z.strictObject({
    global: z.number().int().min(1).default(4),
    perAccount: z.number().int().min(1).default(1),
  }).prefault({}),
  retry: z.strictObject({
    attempts: z.number().int().min(1).default(5),
    baseDelayMs: z.number().int().min(0).default(2000),
    maxDelayMs: z.number().int().min(0).default(10 * 60_000),
    factor: z.number().min(1).default(2),
  }).prefault({}),
  /**
   * How long a worker's lease on a file's job runs unless renewed (it is renewed every
   * leaseMs / 2 while the file is processed): a job whose holder died is taken over by another
   * worker (another node) once it runs out.
   */
  leaseMs: z.number().int().min(1000).default(30_000),
  pollIntervalMs: z.number().int().min(10).default(1000),
  /**
   * chokidar watchers on account trees, for files written there by other means than this
   * server's SFTP (a co-located OpenSSH, a mounted share), taken within a second: `true` for
   * every account, a list of account ids, or `false`. Each watched exchange account holds about
   * 13 inotify watches (one per directory of in/), so `true` suits tens of accounts, not
   * thousands. Unwatched trees are still scanned (scanIntervalSeconds); SFTP uploads never wait
   * for either (they are announced in-process).
   */
  watch: z.union([z.boolean(), z.array(z.string().min(1))]).default(false),
  /**
   * Every account's in/ tree (drop-box: its root) is looked at once in this period, a slice of
   * the accounts at a time: a file dropped there by other means is found within it (plus a
   * second if it was still being written). A look is one stat per directory; a directory is
   * read only when its mtime changed (docs/engine.md). 45 s: about 1 % of one core with 10,000
   * exchange accounts; the cost grows with the accounts and shrinks as this grows.
   */
  scanIntervalSeconds: z.number().int().min(1).max(3600).default(45),
  /**
   * CSV files of at least this size are parsed on a worker thread, beside the validation and
   * storage of their rows (0: all of them). 4 MiB is about 25,000 sal rows.
   */
  parseThreadMinBytes: z.number().int().min(0).default(4 * 1024 * 1024),
}).prefault({});

const directorySchema = z.strictObject({
  /** Profile codes accepted in usr files. */
  userProfiles: z.array(z.string()).default(['HR_ADMIN', 'HR_MANAGER', 'PAYROLL', 'EMPLOYEE', 'MANAGER']),
}).prefault({});

const documentsSchema = z.strictObject({
  maxEntries: z.number().int().min(1).default(10_000),
  maxTotalUncompressedBytes: z.number().int().min(1).default(2 * 1024 ** 3),
  maxCompressionRatio: z.number().min(1).default(100),
}).prefault({});

const retentionSchema = z.strictObject({
  archiveDays: days.default(45),
  quarantineDays: days.default(90),
  unmatchedDays: days.default(90),
  subscriptionReportDays: days.default(15),
  reportDays: days.default(90),
  otherOutDays: days.default(90),
  partialUploadDays: days.default(7),
  /** The housekeeping job: finished (`done`) queue jobs, from their last update; `dead` ones stay. */
  queueDoneDays: days.default(7),
  /** The housekeeping job: events, from when they happened, with their deliveries once all are delivered or dead. */
  eventDays: days.default(90),
}).prefault({});

const accountsSchema = z.strictObject({
  inactivityDisableDays: days.default(365),
  /** After being disabled for inactivity, the account may be re-enabled this long, then is purged. */
  purgeAfterDisabledDays: days.default(183),
  purge: z.boolean().default(true),
}).prefault({});

const keysSchema = z.strictObject({
  rsaShortValidityDays: days.default(730),
  longValidityDays: days.default(1826),
  warnDays: days.default(30),
}).prefault({});

const isTimezone = (tz: string): boolean => {
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true; } catch { return false; }
};

const jobSchedule = (schedule: string) => z.strictObject({
  /** Cron expression (5 fields, or 6 with seconds), in `jobs.timezone`. */
  schedule: z.string().default(schedule).refine((s) => cron.validate(s), 'not a valid cron expression (e.g. "15 2 * * *")'),
  enabled: z.boolean().default(true),
}).prefault({});

const jobsSchema = z.strictObject({
  timezone: z.string().default('UTC').refine(isTimezone, 'not a known IANA timezone (e.g. UTC, Europe/Paris)'),
  retention: jobSchedule('15 2 * * *'),
  accountInactivity: jobSchedule('30 2 * * *'),
  keyExpiry: jobSchedule('45 2 * * *'),
  /** Expected files (issue #22): every 5 minutes, so late and missed are told within 5 minutes (each run is recorded). */
  expectations: jobSchedule('*/5 * * * *'),
  /** Old done queue jobs, events and deliveries (retention.queueDoneDays, retention.eventDays). */
  housekeeping: jobSchedule('0 3 * * *'),
}).prefault({});

const pgpSchema = z.strictObject({
  /** Armored private key file to use instead of the generated one (relative to the config file). */
  privateKeyFile: z.string().optional(),
  /** Name of the environment variable holding the private key's passphrase (none: unprotected key, mode 0600). */
  passphraseEnv: z.string().optional(),
  userId: z.string().default('fluxgate <fluxgate@localhost>'),
  /** Algorithm of a generated key; RSA 4096 is what most HRIS PGP tooling accepts. */
  keyType: z.enum(['rsa4096', 'rsa3072', 'curve25519']).default('rsa4096'),
  signReports: z.boolean().default(true),
  /** Decryption stops (FG_DECRYPT) when the plaintext grows past this many bytes (zip-bomb guard). */
  maxPlaintextBytes: z.number().int().min(1).default(8 * 1024 ** 3),
}).prefault({});

const logSchema = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /**
   * Write logs to this file instead of standard output (relative to the config file). The
   * server reopens it on SIGHUP, so logrotate can move it away (docs/configuration.md).
   */
  file: z.string().optional(),
  /**
   * `auto`: lines readable by a person when standard output is a terminal, JSON lines
   * otherwise (a pipe, a journal, a file); `json` or `pretty` whatever the output is.
   */
  format: z.enum(['auto', 'json', 'pretty']).default('auto'),
}).prefault({});

/**
 * The operator plane (core/http): REST API under /api/v1, its OpenAPI document, /metrics,
 * /healthz and /readyz. On by default, on the loopback address only.
 */
const httpSchema = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65535).default(8080),
  /** HTTPS: PEM certificate (chain) and private key files (relative to the config file). */
  tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
  /** Serve /metrics without a token (for a Prometheus on a trusted network). */
  metricsPublic: z.boolean().default(false),
  /** How long a session opened with POST /api/v1/login lasts. */
  sessionMinutes: z.number().int().min(1).default(8 * 60),
  /** Failed logins and bad tokens: per address, and per operator name for logins (like sftp.bruteForce). */
  loginLimit: z.strictObject({
    maxFailures: z.number().int().min(1).default(10),
    windowSeconds: z.number().int().min(1).default(300),
    banSeconds: z.number().int().min(1).default(900),
  }).prefault({}),
}).prefault({});

// ── cluster (#20; docs/cluster.md): several nodes on one PostgreSQL store and one data directory. ──
/**
 * An IPv4 or IPv6 address or CIDR (a bare address is one host), as account allowlists take them.
 * Not core/accounts' normalizeAllowlist: core/accounts imports core/config (a folder cycle).
 */
const isCidr = (entry: string): boolean => {
  const [address = '', prefix, extra] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
};

const clusterSchema = z.strictObject({
  /**
   * This node's name in logs, `fluxgate nodes` and the bans it makes; on a PostgreSQL store one
   * `serve` per node id (FG_NODE_ID_TAKEN). Default: the host name and the SFTP port.
   */
  nodeId: z.string().min(1).optional(),
  /**
   * Load balancers whose connections start with a PROXY protocol header (v2 or v1) telling the
   * real client address. Empty (the default): no connection may send one.
   */
  trustedProxies: z.array(z.string().refine(isCidr, 'not an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.0/24)')).default([]),
}).prefault({});
// ── end of cluster ──

// ── store (#20; docs/cluster.md "PostgreSQL"): serve and every command run on the store it selects. ──
const storeSchema = z.strictObject({
  /**
   * `postgres://user:password@host:5432/db` (or `postgresql://`): PostgreSQL. Absent: the
   * embedded SQLite file under dataDir. Also FLUXGATE_STORE_URL. Never printed with its password.
   */
  url: z.string().superRefine((url, ctx) => {
    const problem = storeUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional(),
  /**
   * PostgreSQL only: most connections a node (or a CLI command) opens to the store at once;
   * the SFTP logins and re-checks, the engine and the HTTP plane share them. Also
   * FLUXGATE_STORE_POOL_SIZE. Job locks and this node's lock hold connections of their own.
   */
  poolSize: z.number().int().min(1).max(1000).default(DEFAULT_STORE_POOL_SIZE),
}).prefault({});
// ── end of store ──

export const configSchema = z.strictObject({
  /** In `production`, test files (version `tst`) are validated and reported but never applied. */
  environment: z.enum(['production', 'staging', 'development', 'test']).default('development'),
  dataDir: z.string().default('./var'),
  workflowsDir: z.string().optional(),
  /** Extra plugin modules (paths) loaded at start-up. */
  plugins: z.array(z.string()).default([]),
  sftp: sftpSchema,
  engine: engineSchema,
  directory: directorySchema,
  documents: documentsSchema,
  retention: retentionSchema,
  accounts: accountsSchema,
  keys: keysSchema,
  jobs: jobsSchema,
  pgp: pgpSchema,
  log: logSchema,
  http: httpSchema,
  /** Webhooks and e-mail for events (issue #22; core/notify, docs/events.md). */
  events: eventsSchema,
  /** Files expected on a schedule (late / missed / recovered; docs/events.md). */
  expectations: expectationsSchema,
  cluster: clusterSchema,
  store: storeSchema,
  /** Per-flux forward targets for fluxes fluxgate does not interpret (rpa, sig, pro). */
  forward: z.record(z.string(), z.strictObject({
    directory: z.string().optional(),
    url: z.string().url().optional(),
  })).default({}),
});

export type FluxgateConfig = z.infer<typeof configSchema>;
