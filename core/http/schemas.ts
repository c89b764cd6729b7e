import { z } from 'zod';
import { FILE_STATES } from '../store/journal-repository';
import { ERROR_RESPONSES } from './error-status';

/**
 * Shapes of the API's answers. Answers are serialized through these (zod strips what a schema
 * does not name), so a field added to an entity never leaks out unless named here: no password
 * hash, no token hash, no private key.
 */

const iso = z.string().nullable().describe('ISO 8601 date-time, or null');
const loose = z.record(z.string(), z.unknown());

export const Key = z.object({
  type: z.string(), bits: z.number(), fingerprint: z.string(), comment: z.string(),
  added: iso, expires: iso, expired: z.boolean(),
});

export const Account = z.object({
  id: z.string(), profile: z.enum(['exchange', 'dropbox']), partner: z.string().nullable(), enabled: z.boolean(),
  disabledReason: z.string().nullable(), disabledAt: iso, allowIps: z.array(z.string()),
  passwordFallback: z.boolean().describe('the deprecated password fallback is set (the hash is never shown)'),
  options: loose, createdAt: iso, lastLoginAt: iso, keys: z.array(Key).optional(),
});

export const NewAccount = z.strictObject({
  id: z.string().describe('1-32 lower-case letters, digits, "-" and "_"'),
  profile: z.enum(['exchange', 'dropbox']).default('exchange'),
  partner: z.string().nullable().optional(),
  keys: z.array(z.string()).describe('public keys, OpenSSH or RFC 4716 text').default([]),
  allowIps: z.array(z.string()).optional().describe('IPv4/IPv6 addresses or CIDRs; none: any address'),
});

export const AccountPatch = z.strictObject({
  partner: z.string().nullable().optional(),
  allowIps: z.array(z.string()).optional().describe('replaces the allowlist; [] allows any address'),
  deactivateMissing: z.boolean().optional().describe('drop-box: an upload is a full sync'),
});

export const Removal = z.object({
  accountId: z.string(), account: Account.nullable(), folder: z.string(), resumed: z.boolean(), startedAt: z.string(),
  moved: z.array(loose), exports: loose, deleted: loose,
});

export const JournalFile = z.object({
  id: z.string(), account: z.string(), profile: z.string().nullable(), flux: z.string().nullable(), name: z.string(), path: z.string(),
  size: z.number(), sha1: z.string(), sha256: z.string(), state: z.enum(FILE_STATES as [string, ...string[]]), attempts: z.number(),
  receivedAt: iso, processedAt: iso, location: z.string(), receipt: z.string().nullable(), report: z.string().nullable(),
  outcome: loose.nullable(), naming: loose.nullable(),
  client: z.object({ address: z.string(), fingerprint: z.string().nullable() }).nullable()
    .describe('The SFTP client that uploaded it (the real address behind a trusted proxy); null for a file found in the tree'),
});

export const FileEvent = z.looseObject({ at: iso, type: z.string() });

export const Page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const Pagination = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
};

export const WorkflowProblem = z.object({ file: z.string(), line: z.number().optional(), column: z.number().optional(), key: z.string().optional(), message: z.string() });
export const WorkflowCheck = z.object({
  name: z.string(), file: z.string(), valid: z.boolean(), problems: z.array(WorkflowProblem), warnings: z.array(WorkflowProblem),
  text: z.array(z.string()).describe('the problems and warnings as `workflows check` prints them'),
});

export const JobRun = z.object({
  id: z.number(), startedAt: iso, endedAt: iso, asOf: iso, outcome: z.string(), counts: loose, error: z.string().nullable(),
  slot: iso.describe('the scheduled instant it ran for; null for a run by hand'), host: z.string().nullable().describe('the host that ran it'),
});
export const Job = z.object({
  job: z.string(), description: z.string(), schedule: z.string(), timezone: z.string(), enabled: z.boolean(), nextRun: iso,
  lastRun: JobRun.nullable(),
});
export const JobReport = z.object({
  job: z.string(), runId: z.number().nullable(), asOf: iso, dryRun: z.boolean(), outcome: z.string(), counts: loose,
  actions: z.array(loose), errors: z.array(loose), startedAt: iso, endedAt: iso,
});

export const AuditEntry = z.object({
  id: z.number(), at: iso, actor: z.string(), role: z.string(), action: z.string(), target: z.string().nullable(),
  address: z.string().nullable(), status: z.number().nullable(), code: z.string().nullable(), detail: loose,
});

/** The answers of a route: its success schema(s) and every documented error. */
export function responses<T extends Record<number, z.ZodType>>(ok: T): T & typeof ERROR_RESPONSES {
  return { ...ERROR_RESPONSES, ...ok };
}

/**
 * A view built by the shared formatters (typed as plain records, as the CLI prints them) handed
 * to a route's reply: its shape is checked at run time by the route's response schema.
 */
export const asReply = (view: unknown): never => view as never;
