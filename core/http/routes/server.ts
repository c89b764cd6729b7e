import { z } from 'zod';
import { hostKeysDir, loadHostKeys } from '../../sftp/host-keys';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { AuditEntry, responses } from '../schemas';

/** The server's public identity (host keys, PGP public key) and the audit log. */
export function registerServerRoutes(app: ZodApp, deps: HttpDeps): void {
  app.get('/api/v1/hostkeys', {
    schema: {
      summary: 'the SSH host keys: type, bits, SHA256 and MD5 fingerprints (never the private keys)', tags: ['server'],
      response: responses({ 200: z.array(z.object({ type: z.string(), algorithm: z.string(), bits: z.number(), sha256: z.string(), md5: z.string() })) }),
    },
  }, async () => loadHostKeys(hostKeysDir(deps.loaded, deps.paths)).map((k) => ({ type: k.type, algorithm: k.algorithm, bits: k.bits, sha256: k.fingerprint, md5: k.md5 })));

  app.get('/api/v1/pgp/public-key', {
    schema: {
      summary: "the server's PGP public key: clients encrypt uploads and verify report signatures with it", tags: ['server'],
      response: responses({ 200: z.object({ fingerprint: z.string(), armoredPublicKey: z.string() }) }),
    },
  }, async () => {
    const key = await deps.pgpKeys.load();
    return { fingerprint: key.fingerprint, armoredPublicKey: key.armoredPublicKey };
  });

  app.get('/api/v1/audit', {
    schema: {
      summary: 'changes made through the API and by operator commands, newest first', tags: ['audit'],
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(1000).default(100), actor: z.string().optional(),
        cursor: z.string().regex(/^\d+$/).optional().describe('nextCursor of the previous page'),
      }),
      response: responses({ 200: z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() }) }),
    },
  }, async (request) => {
    const { limit, actor, cursor } = request.query;
    const entries = await deps.audit.list({ limit: limit + 1, actor, before: cursor === undefined ? undefined : Number(cursor) });
    const items = entries.slice(0, limit).map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
    return { items, nextCursor: entries.length > limit ? String(items[items.length - 1].id) : null };
  });
}
