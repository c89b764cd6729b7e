import { z } from 'zod';
import { accountJson, keyJson, removalJson } from '../../accounts/cli-format';
import { createAccountWithKeys } from '../../accounts/create-with-keys';
import type { ZodApp } from '../build-app';
import type { HttpDeps } from '../deps';
import { Account, AccountPatch, asReply, Key, NewAccount, Removal, responses } from '../schemas';

const Id = z.object({ id: z.string() });

/** Accounts and their keys: what `fluxgate account …` and `fluxgate key …` do, through AccountService. */
export function registerAccountRoutes(app: ZodApp, deps: HttpDeps): void {
  const svc = deps.accounts;
  const view = async (id: string) => asReply(accountJson(await svc.get(id), await svc.keys(id)));
  const tags = ['accounts'];

  app.get('/api/v1/accounts', { schema: { summary: 'list accounts with their keys', tags, response: responses({ 200: z.array(Account) }) } },
    async () => {
      const accounts = await svc.list();
      const keys = await deps.store.accounts.allKeys();
      return asReply(accounts.map((a) => accountJson(a, keys.filter((k) => k.accountId === a.id))));
    });

  app.get('/api/v1/accounts/:id', { schema: { summary: 'one account and its keys', tags, params: Id, response: responses({ 200: Account }) } },
    async (request) => view(request.params.id));

  app.post('/api/v1/accounts', {
    schema: { summary: 'create an account, its tree and its keys (a bad key creates nothing)', tags, body: NewAccount, response: responses({ 201: Account }) },
  }, async (request, reply) => {
    const { account } = await createAccountWithKeys(svc, deps.config, request.body);
    return reply.code(201).send(await view(account.id));
  });

  app.patch('/api/v1/accounts/:id', {
    schema: { summary: 'change the partner id, replace the allowlist, set options', tags, params: Id, body: AccountPatch, response: responses({ 200: Account }) },
  }, async (request) => {
    const { partner, allowIps, deactivateMissing } = request.body;
    await svc.update(request.params.id, { partner, allowIps, options: deactivateMissing === undefined ? undefined : { deactivateMissing } });
    return view(request.params.id);
  });

  app.post('/api/v1/accounts/:id/disable', { schema: { summary: 'refuse logins; open sessions end', tags, params: Id, response: responses({ 200: Account }) } },
    async (request) => { await svc.disable(request.params.id); return view(request.params.id); });

  app.post('/api/v1/accounts/:id/enable', { schema: { summary: 'allow logins again', tags, params: Id, response: responses({ 200: Account }) } },
    async (request) => { await svc.enable(request.params.id); return view(request.params.id); });

  app.delete('/api/v1/accounts/:id', {
    schema: { summary: 'remove: files and an export of its data moved to <data>/removed/, rows deleted', tags, params: Id, response: responses({ 200: Removal }) },
  }, async (request) => asReply(removalJson(await svc.remove(request.params.id))));

  const keyTags = ['keys'];
  app.get('/api/v1/accounts/:id/keys', { schema: { summary: "an account's keys", tags: keyTags, params: Id, response: responses({ 200: z.array(Key) }) } },
    async (request) => asReply((await svc.keys(request.params.id)).map((k) => keyJson(k))));

  app.post('/api/v1/accounts/:id/keys', {
    schema: {
      summary: 'add a public key (OpenSSH or RFC 4716 text)', tags: keyTags, params: Id,
      body: z.strictObject({ key: z.string().min(1).max(16384) }), response: responses({ 201: Key }),
    },
  }, async (request, reply) => reply.code(201).send(asReply(keyJson(await svc.addKey(request.params.id, request.body.key)))));

  app.delete('/api/v1/accounts/:id/keys/:fingerprint', {
    schema: {
      summary: 'remove a key by its SHA256:… fingerprint (URL-encoded); sessions logged in with it end', tags: keyTags,
      params: z.object({ id: z.string(), fingerprint: z.string() }), response: responses({ 200: z.object({ account: z.string(), removed: z.string(), keys: z.array(Key) }) }),
    },
  }, async (request) => {
    const { id, fingerprint } = request.params;
    await svc.removeKey(id, fingerprint);
    return { account: id, removed: fingerprint, keys: asReply((await svc.keys(id)).map((k) => keyJson(k))) };
  });
}
