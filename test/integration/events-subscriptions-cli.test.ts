import { strict as assert } from 'node:assert';
import { appendFileSync, readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { TestServer } from '../helpers/server';

// `events subscribe` / `unsubscribe` edit the config file as `expectations add/remove` do: the
// file keeps its comments, a change that would make it invalid is refused and leaves it as it was.
const srv = new TestServer({ config: { events: { email: { smtp: { host: '127.0.0.1', port: 2525 }, from: 'fluxgate@example.com' } } } });
after(async () => { await srv.cleanup(); });

interface Listed { id: string; target: string; events: string[] | null; accounts: string[] | null; digestMinutes: number | null }
async function subscriptions(): Promise<Listed[]> {
  const r = await srv.cli('events', 'subscriptions', '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed[];
}

test('events subscribe adds a webhook (with a new secret) and an e-mail route; unsubscribe removes them; the file keeps its comments', async () => {
  appendFileSync(srv.configFile, '# kept: the operator\'s own note\n');
  const hook = await srv.cli('events', 'subscribe', '--name', 'ops', '--webhook', 'https://hooks.example.com/fluxgate', '--types', 'file.rejected,file.dead', '--accounts', 'acme', '--json');
  assert.equal(hook.code, 0, hook.stderr);
  const added = JSON.parse(hook.stdout) as { added: string; secret: string };
  assert.equal(added.added, 'webhook:ops');
  assert.match(added.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const mail = await srv.cli('events', 'subscribe', '--email', 'hr-ops@example.com,it@example.com', '--types', 'expectation.*', '--digest-minutes', '15', '--json');
  assert.equal(mail.code, 0, mail.stderr);

  assert.deepEqual((await subscriptions()).map((s) => [s.id, s.target, s.events, s.accounts, s.digestMinutes]), [
    ['webhook:ops', 'https://hooks.example.com/fluxgate', ['file.rejected', 'file.dead'], ['acme'], null],
    ['email:hr-ops@example.com,it@example.com', 'hr-ops@example.com, it@example.com', ['expectation.*'], null, 15],
  ]);
  const text = readFileSync(srv.configFile, 'utf8');
  assert.match(text, /# kept: the operator's own note/);
  assert.ok(text.includes(added.secret), 'the secret is in the config file, where the server reads it');

  const again = await srv.cli('events', 'subscribe', '--name', 'ops', '--webhook', 'https://other.example.com/', '--json');
  assert.equal(again.code, 1);
  assert.equal((JSON.parse(again.stderr) as { error: { code: string } }).error.code, 'FG_SUBSCRIPTION_EXISTS');

  assert.equal((await srv.cli('events', 'unsubscribe', 'webhook:ops')).code, 0);
  assert.equal((await srv.cli('events', 'unsubscribe', 'email:hr-ops@example.com,it@example.com')).code, 0);
  assert.deepEqual(await subscriptions(), []);
  assert.match(readFileSync(srv.configFile, 'utf8'), /# kept: the operator's own note/);
  const unknown = await srv.cli('events', 'unsubscribe', 'webhook:ops', '--json');
  assert.equal(unknown.code, 1);
  assert.equal((JSON.parse(unknown.stderr) as { error: { code: string } }).error.code, 'FG_SUBSCRIPTION_NOT_FOUND');
});

test('a subscription that would make the config invalid is refused and the file is left as it was', async () => {
  const before = readFileSync(srv.configFile, 'utf8');
  const bad = await srv.cli('events', 'subscribe', '--name', 'ops', '--webhook', 'ftp://hooks.example.com/', '--json');
  assert.equal(bad.code, 1);
  const error = (JSON.parse(bad.stderr) as { error: { code: string; message: string } }).error;
  assert.equal(error.code, 'FG_CONFIG');
  assert.match(error.message, /events\.webhooks\.0\.url: .*http:\/\/ or https:\/\//);
  const neither = await srv.cli('events', 'subscribe', '--name', 'x');
  assert.equal(neither.code, 1);
  assert.match(neither.stderr, /either --webhook URL or --email ADDRESSES/);
  assert.equal(readFileSync(srv.configFile, 'utf8'), before);
});
