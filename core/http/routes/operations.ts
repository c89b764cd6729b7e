import { z } from 'zod';
import { toAccountCsv } from '../../accounts/account-csv';
import { exportAccounts } from '../../accounts/account-export';
import { FluxgateError } from '../../errors';
import { PUBLIC_KEY_DIR, PUBLIC_KEY_FILE_NAME } from '../../pgp/names';
import { publishToAccounts } from '../../pgp/publish';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { responses } from '../schemas';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/**
 * CLI operations the first API routes left out: `account export`, `jobs tombstones`, `pgp info`,
 * `pgp publish`, `pgp require-encryption`. Same services, same answers as their `--json`.
 */
export function registerOperationRoutes(app: ZodApp, deps: HttpDeps): void {
  const repo = deps.store.accounts;

  app.get('/api/v1/accounts/export', {
    schema: {
      summary: 'every account and its public keys in the format POST /api/v1/accounts/import reads (format=csv: the CSV file of `account export`)', tags: ['accounts'],
      querystring: z.object({ format: z.enum(['json', 'csv']).default('json') }),
      response: responses({ 200: z.union([z.object({
        accounts: z.array(z.object({ id: z.string(), profile: z.string().optional(), partner: z.string().nullable(), keys: z.array(z.string()), allowIps: z.array(z.string()), enabled: z.boolean().optional() })),
        purged: z.array(z.string()),
      }), z.string().describe('text/csv')]) }),
    },
  }, async (request, reply) => {
    const exported = await exportAccounts(repo);
    if (request.query.format === 'json') return exported;
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="accounts.csv"')
      .serializer((p) => p as string).send(toAccountCsv(exported.accounts));
  });

  app.get('/api/v1/jobs/tombstones', {
    schema: {
      summary: 'what retention and purges deleted: name, hash, size, when, which rule (most recent last)', tags: ['jobs'],
      querystring: z.object({
        account: z.string().optional(), file: z.string().optional().describe('a journal file id'), name: z.string().max(200).optional().describe('text in the file name'),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe('at most this many, the most recent'),
      }),
      response: responses({ 200: z.array(z.object({
        id: z.number(), fileId: z.string().nullable(), accountId: z.string(), path: z.string(), name: z.string(), size: z.number().nullable(),
        sha256: z.string().nullable(), rule: z.string(), deletedAt: z.string().nullable(), asOf: z.string().nullable(), state: z.string(),
      })) }),
    },
  }, async (request) => {
    const { account, file, name, limit } = request.query;
    return (await deps.jobs.tombstones.list({ accountId: account, fileId: file, name })).slice(-limit).map((t) => ({ ...t, deletedAt: iso(t.deletedAt), asOf: iso(t.asOf) }));
  });

  app.get('/api/v1/pgp', {
    schema: {
      summary: "the server PGP key: fingerprint, algorithm, user ids, where it is published (never the private key)", tags: ['server'],
      response: responses({ 200: z.object({ fingerprint: z.string(), algorithm: z.string(), userIds: z.array(z.string()), createdAt: z.string(), source: z.string(), publishedAs: z.string(), signReports: z.boolean() }) }),
    },
  }, async () => {
    const key = await deps.pgpKeys.load();
    return {
      fingerprint: key.fingerprint, algorithm: key.algorithm, userIds: key.userIds, createdAt: key.createdAt.toISOString(), source: key.source,
      publishedAs: `${PUBLIC_KEY_DIR}/${PUBLIC_KEY_FILE_NAME}`, signReports: deps.config.pgp.signReports,
    };
  });

  app.post('/api/v1/pgp/publish', {
    schema: {
      summary: `write the public key to ${PUBLIC_KEY_DIR}/${PUBLIC_KEY_FILE_NAME} of every exchange account (as \`pgp publish\`)`, tags: ['server'],
      response: responses({ 200: z.object({ fingerprint: z.string(), written: z.number(), unchanged: z.number(), skipped: z.number() }) }),
    },
  }, async () => {
    const key = await deps.pgpKeys.load();
    return { fingerprint: key.fingerprint, ...publishToAccounts(deps.paths, await repo.list(), key.armoredPublicKey, deps.config.sftp.fileMode) };
  });

  app.put('/api/v1/accounts/:id/pgp', {
    schema: {
      summary: 'accept only PGP-encrypted uploads from this account, or stop requiring them (as `pgp require-encryption`)', tags: ['accounts'],
      params: z.object({ id: z.string() }), body: z.strictObject({ requireEncryption: z.boolean() }),
      response: responses({ 200: z.object({ account: z.string(), requireEncryption: z.boolean() }) }),
    },
  }, async (request) => {
    const { id } = request.params;
    if (!await repo.get(id)) throw new FluxgateError('FG_ACCOUNT_NOT_FOUND', `no account "${id}"`, { accountId: id });
    await deps.accounts.update(id, { options: { requireEncryption: request.body.requireEncryption } });
    return { account: id, requireEncryption: request.body.requireEncryption };
  });
}
