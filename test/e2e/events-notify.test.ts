import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sftpBatch } from '../helpers/clients';
import type { TestKey } from '../helpers/keys';
import { TestServer } from '../helpers/server';
import { SmtpServer } from '../helpers/smtp';
import { skipUnless } from '../helpers/tools';
import { until } from '../helpers/wait';
import { WebhookReceiver } from '../helpers/webhook-receiver';
import { addAccount, FIXTURES, renamedCopy, uploadAndWait, waitForFile } from './fixtures-support';

// Issue #22, "done when": an operator configures a webhook and a mailbox, a client uploads a bad
// file with OpenSSH's sftp, and both arrive: the webhook signed as Standard Webhooks says, the
// mail through a real SMTP server (aiosmtpd), and a digest route groups its events in fewer mails.
const skip = skipUnless('sftp', 'ssh-keygen', 'aiosmtpd');
const SECRET = `whsec_${Buffer.from('fluxgate-test-secret-0123456789ab').toString('base64')}`;
let server: TestServer;
let receiver: WebhookReceiver;
let smtp: SmtpServer;
let key: TestKey;

before(async () => {
  if (skip) return;
  receiver = await new WebhookReceiver(SECRET).start();
  smtp = await new SmtpServer().start();
  server = new TestServer({
    config: {
      events: {
        webhooks: [{ name: 'ops', url: receiver.url, secret: SECRET, events: ['file.rejected', 'file.dead'] }],
        email: {
          smtp: { host: '127.0.0.1', port: smtp.port },
          from: 'fluxgate@example.com',
          routes: [
            { to: ['hr-ops@example.com'], events: ['file.rejected', 'expectation.missed'], accounts: ['acme'] },
            { name: 'digest', to: ['digest@example.com'], events: ['file.*'], accounts: ['acme'], digestMinutes: 0.1 },
            { to: ['other@example.com'], accounts: ['someone-else'] },
          ],
        },
        delivery: { pollIntervalMs: 100, baseDelayMs: 100, maxDelayMs: 500 },
      },
    },
  });
  await server.start();
  key = await addAccount(server, 'acme');
});
after(async () => {
  await server?.cleanup();
  await receiver?.close();
  await smtp?.stop();
});

test('a rejected upload reaches the webhook (signed, verified) and the mailbox; the filters hold', { skip }, async () => {
  const bad = renamedCopy(join(FIXTURES, 'records', 'empty.csv'), 'ndmat_acme_acme_sal_hrmanager_v6_270101090000.csv');
  const file = await uploadAndWait(server, 'acme', key, bad, 'in/sal/');
  assert.equal(file.state, 'rejected');

  await until('the webhook received the rejection', () => receiver.received.length >= 1, 15_000);
  const [hook] = receiver.received;
  assert.equal(hook.verified, true, 'the Standard Webhooks signature verifies with the endpoint secret');
  assert.equal(hook.headers['content-type'], 'application/json');
  assert.equal(hook.headers['webhook-id'], hook.json.id, 'webhook-id is the event id');
  assert.deepEqual({ type: hook.json.type, account: hook.json.account, fileId: hook.json.fileId, flux: hook.json.flux, name: hook.json.name, code: hook.json.code },
    { type: 'file.rejected', account: 'acme', fileId: file.id, flux: 'sal', name: file.name, code: 'FG_EMPTY_FILE' });
  assert.match(String(hook.json.summary), /empty/);

  await until('the mail to hr-ops arrived', () => smtp.count() >= 1, 15_000);
  const mails = await smtp.mails();
  const mail = mails.find((m) => m.to === 'hr-ops@example.com');
  assert.ok(mail, JSON.stringify(mails.map((m) => m.to)));
  assert.equal(mail.from, 'fluxgate@example.com');
  assert.match(mail.subject, /file rejected for account acme: ndmat_acme_acme_sal_hrmanager_v6_270101090000\.csv \(FG_EMPTY_FILE\)/);
  assert.match(mail.text, new RegExp(`fluxgate files show ${file.id}`));
  assert.match(mail.html, /<td>FG_EMPTY_FILE<\/td>/);

  // The event list shows both events of the file; the webhook (file.rejected only) got one request.
  const events = JSON.parse((await server.cli('events', 'list', '--json')).stdout) as Array<{ type: string; fileId?: string }>;
  assert.deepEqual(events.filter((e) => e.fileId === file.id).map((e) => e.type), ['file.received', 'file.rejected']);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(receiver.received.map((h) => h.json.type), ['file.rejected'], 'file.received is not among the webhook\'s types');
  const deliveries = JSON.parse((await server.cli('deliveries', 'list', '--json')).stdout) as Array<{ subscription: string; state: string }>;
  assert.equal(deliveries.filter((d) => d.subscription === 'email:other@example.com').length, 0, 'a route for another account gets nothing');
  assert.ok(deliveries.some((d) => d.subscription === 'webhook:ops' && d.state === 'delivered'));
});

test('a digest route sends the events of its window in one mail, each event once', { skip }, async () => {
  const names = ['ndmat_acme_acme_sal_hrmanager_v6_270101100000.csv', 'ndmat_acme_acme_sal_hrmanager_v6_270101100001.csv'];
  const locals = names.map((n) => renamedCopy(join(FIXTURES, 'records', 'missing-column.csv'), n));
  const r = await sftpBatch(server.port, 'acme', key.privatePath, locals.map((l) => `put ${l} in/sal/`));
  assert.equal(r.code, 0, r.stderr);
  const files = await Promise.all(names.map((n) => waitForFile(server, 'acme', n)));
  const digestIds = async (): Promise<string[]> => {
    const list = JSON.parse((await server.cli('deliveries', 'list', '--json', '--limit', '1000')).stdout) as Array<{ subscription: string; state: string; eventId: string }>;
    return list.filter((d) => d.subscription === 'email:digest' && d.state === 'delivered').map((d) => d.eventId);
  };
  const events = JSON.parse((await server.cli('events', 'list', '--json')).stdout) as Array<{ id: string; fileId?: string }>;
  const ofTheseFiles = events.filter((e) => files.some((f) => f.id === e.fileId)).map((e) => e.id);
  assert.equal(ofTheseFiles.length, 4, 'received and rejected, for each file');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ids = await digestIds();
    if (ofTheseFiles.every((id) => ids.includes(id))) break;
    if (Date.now() > deadline) assert.fail(`the digest did not deliver ${ofTheseFiles.join(', ')}: ${ids.join(', ')}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  const digests = (await smtp.mails()).filter((m) => m.to === 'digest@example.com');
  const withTheseFiles = digests.filter((m) => names.some((n) => m.text.includes(n)));
  // 4 events within a second or two, 6-second windows: one mail, or two if a window ended between them.
  assert.ok(withTheseFiles.length >= 1 && withTheseFiles.length <= 2, `${withTheseFiles.length} digest mails`);
  assert.ok(withTheseFiles.some((m) => /\[fluxgate\] \d+ events for account acme: .*file rejected/.test(m.subject)), withTheseFiles.map((m) => m.subject).join(' | '));
  for (const id of ofTheseFiles) {
    assert.equal(withTheseFiles.filter((m) => m.text.includes(id)).length, 1, `event ${id} is in exactly one digest`);
  }
});
