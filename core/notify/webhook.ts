import { createHmac } from 'node:crypto';
import type { FluxgateEvent } from '../store/event-types';

/**
 * The Standard Webhooks signature (standardwebhooks.com): HMAC-SHA256 of
 * `<webhook-id>.<webhook-timestamp>.<body>` keyed with the base64-decoded part of the
 * `whsec_…` secret, sent as `v1,<base64>`.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

export interface SendResult {
  ok: boolean;
  status: number | null;
  error?: string;
}

/**
 * POSTs the event as JSON. A 2xx is delivery; any other status, a redirect (not followed:
 * the spec's advice), a network error or no answer within `timeoutMs` is a failed attempt.
 */
export async function postWebhook(url: string, secret: string, event: FluxgateEvent, timeoutMs: number, now = Date.now()): Promise<SendResult> {
  const body = JSON.stringify(event);
  const timestamp = Math.floor(now / 1000);
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fluxgate-webhooks',
        'webhook-id': event.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, event.id, timestamp, body),
      },
      body,
    });
    // Read (and drop) the answer so the connection can be reused.
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `${url} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, status: null, error: `POST ${url} failed: ${why}` };
  }
}
