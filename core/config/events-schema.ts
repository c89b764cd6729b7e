import { Cron } from 'croner';
import { z } from 'zod';

/** The `events:` and `expectations:` sections (issue #22, docs/events.md). */

const isTimezone = (tz: string): boolean => {
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return true; } catch { return false; }
};

/** `2h`, `30m`, `90s`, `1d` (or a number of minutes) → milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return value >= 0 ? value * 60_000 : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']);
}

const duration = z.union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, 'a duration such as "2h", "30m", "90s", "1d" (or a number of minutes)');

const isWhsec = (s: string): boolean => /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s.slice(6), 'base64').length >= 16;

/** What a subscription receives: event types (exact, or `file.*`; none: all), accounts, fluxes (none: all). */
const filter = {
  events: z.array(z.string().min(1)).optional(),
  accounts: z.array(z.string().min(1)).optional(),
  fluxes: z.array(z.string().min(1)).optional(),
};

const webhookSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, ".", "_" or "-"'),
  url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http:// or https:// URL'),
  /** Standard Webhooks secret: `whsec_` then base64 of at least 16 random bytes (`fluxgate events secret` makes one). */
  secret: z.string().refine(isWhsec, 'a Standard Webhooks secret: "whsec_" followed by base64 of 16 to 64 random bytes (fluxgate events secret)'),
  ...filter,
});

const emailRouteSchema = z.strictObject({
  /** Names the subscription in `deliveries list` (default: `email:` and the recipients). */
  name: z.string().regex(/^[A-Za-z0-9._:@,-]{1,128}$/).optional(),
  to: z.array(z.string().email()).min(1),
  ...filter,
  /** Group this route's events into at most one mail per this many minutes (0 or absent: one mail per event). */
  digestMinutes: z.number().min(0).optional(),
});

export const eventsSchema = z.strictObject({
  webhooks: z.array(webhookSchema).default([]),
  email: z.strictObject({
    smtp: z.strictObject({
      host: z.string(),
      port: z.number().int().min(1).max(65535).default(587),
      /** TLS as the port implies (465: implicit TLS; 587: STARTTLS required; other ports: STARTTLS when offered), unless set. */
      tls: z.enum(['auto', 'implicit', 'starttls', 'none']).default('auto'),
      user: z.string().optional(),
      password: z.string().optional(),
      /** Name of an environment variable holding the password (keeps it out of the file). */
      passwordEnv: z.string().optional(),
    }),
    from: z.string().email(),
    routes: z.array(emailRouteSchema).default([]),
  }).optional(),
  delivery: z.strictObject({
    /** How often the dispatcher looks for new events and due deliveries. */
    pollIntervalMs: z.number().int().min(10).default(1000),
    /** A webhook that has not answered in this long has failed (the attempt is retried). */
    timeoutMs: z.number().int().min(100).default(10_000),
    /** First retry delay; each next one doubles, with ±50 % jitter, up to maxDelayMs. */
    baseDelayMs: z.number().int().min(0).default(30_000),
    maxDelayMs: z.number().int().min(0).default(3_600_000),
    /** Past this long after the first attempt (or the last `deliveries retry`), a failing delivery is dead. */
    horizon: duration.default('24h'),
    /** A claimed delivery is the claimer's for this long: if its process dies, another sends it after that. */
    leaseMs: z.number().int().min(1000).default(60_000),
  }).refine((d) => d.leaseMs > d.timeoutMs, 'leaseMs must be longer than timeoutMs (a live sender must not lose its lease)').prefault({}),
}).prefault({});

export const expectationSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, ".", "_" or "-"'),
  account: z.string().min(1),
  /** The flux whose files meet it (or `namePattern`, or both). */
  flux: z.string().min(1).optional(),
  /** A glob on the file name (`*` and `?`), e.g. `ndmat_*_sal_*.csv`. */
  namePattern: z.string().min(1).optional(),
  /** Cron expression: each tick is a period's deadline. */
  schedule: z.string().refine((s) => { try { return new Cron(s, { paused: true }).nextRun() !== null; } catch { return false; } },
    'not a valid cron expression with ticks to come (e.g. "0 7 * * 1-5")'),
  timezone: z.string().default('UTC').refine(isTimezone, 'not a known IANA timezone (e.g. UTC, Europe/Paris)'),
  /** After the deadline, how long until a late period is missed. */
  grace: duration.default('0m'),
}).refine((e) => e.flux !== undefined || e.namePattern !== undefined, 'give flux, namePattern or both');

export const expectationsSchema = z.array(expectationSchema).default([])
  .refine((list) => new Set(list.map((e) => e.name)).size === list.length, 'expectation names must be unique');

export type EventsConfig = z.infer<typeof eventsSchema>;
export type ExpectationConfig = z.infer<typeof expectationSchema>;
