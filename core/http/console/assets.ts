import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/**
 * The console's stylesheet and script: plain files (core/http/console/assets/) that the build
 * (bin/build.js) copies beside the compiled code. Read once at start, served from memory with a
 * content hash in their URL, so they can be cached for good.
 */
const TYPES: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };
const loaded = new Map<string, { body: Buffer; hash: string }>();

function asset(name: string): { body: Buffer; hash: string } {
  let found = loaded.get(name);
  if (!found) {
    const body = readFileSync(join(__dirname, 'assets', name));
    found = { body, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) };
    loaded.set(name, found);
  }
  return found;
}

export const assetUrl = (name: string): string => `/console/assets/${name}?v=${asset(name).hash}`;

export function registerAssetRoutes(app: FastifyInstance): void {
  for (const name of Object.keys(TYPES)) asset(name);
  app.get('/console/assets/:name', { schema: { hide: true }, config: { access: 'public' } }, async (request, reply) => {
    const name = (request.params as { name: string }).name;
    if (!TYPES[name]) return reply.callNotFound();
    return reply.type(TYPES[name]).header('cache-control', 'public, max-age=31536000, immutable').send(asset(name).body);
  });
}
