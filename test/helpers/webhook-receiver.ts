import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Checks a request as a Standard Webhooks receiver does (standardwebhooks.com), written here
 * independently of core/notify/webhook.ts: HMAC-SHA256 over `id.timestamp.body` with the
 * base64-decoded part of the whsec_ secret, compared with each `v1,` signature of the header.
 */
export function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false; // replay window of the spec's libraries
  const expected = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((s) => {
    const [version, sig] = s.split(',');
    const given = Buffer.from(sig ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
  verified: boolean;
  /** What the receiver answered ('hang': nothing, the connection left open). */
  answer: number | 'hang';
}

/** What to answer to the n-th request (0-based): a status, or 'hang' (never answer). */
export type Answer = (n: number, hook: ReceivedWebhook) => number | 'hang';

/** A real HTTP endpoint (node:http on a free port) that records and verifies what it receives. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server?: Server;
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  constructor(private readonly secret: string, public answer: Answer = () => 204) {}

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => { body += c; });
      req.on('end', () => {
        const hook: ReceivedWebhook = { headers: req.headers, body, json: JSON.parse(body) as Record<string, unknown>, verified: verifyStandardWebhook(this.secret, req.headers, body), answer: 204 };
        hook.answer = this.answer(this.received.length, hook);
        this.received.push(hook);
        if (hook.answer === 'hang') { this.hanging.add(res); return; }
        res.writeHead(hook.answer).end(hook.answer >= 300 ? 'not now' : '');
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/fluxgate`;
    return this;
  }

  /** Requests answered 2xx: what the sender may count as delivered. */
  get accepted(): ReceivedWebhook[] {
    return this.received.filter((h) => typeof h.answer === 'number' && h.answer >= 200 && h.answer < 300);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
