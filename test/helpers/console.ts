import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * A browser-like HTTP client for the console: keeps cookies, does not follow redirects (tests
 * look at them), reads the CSRF token out of the last page's forms.
 */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  /** The `_csrf` of the last page fetched that had a form. */
  csrf?: string;
  /** The raw Set-Cookie headers of the last answer. */
  lastSetCookie: string[] = [];

  /**
   * `localAddress`: the address the client connects from (127.0.0.2 is another client of a
   * loopback server); `ca`: the certificate to trust (a test's self-signed one).
   */
  constructor(readonly base: string, private readonly connection: { localAddress?: string; ca?: string } = {}) {}

  async request(method: string, path: string, options: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; location: string | null; headers: IncomingHttpHeaders }> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const res = await send(new URL(path, this.base), { method, headers, ...this.connection }, body);
    this.lastSetCookie = res.headers['set-cookie'] ?? [];
    for (const line of this.lastSetCookie) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // An expiry in the past (or an empty value) is how a server clears a cookie.
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = res.text;
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, text, location: res.headers.location ?? null, headers: res.headers };
  }

  get(path: string) { return this.request('GET', path); }

  /** A console form: the page's CSRF token added unless the test gives its own fields only. */
  post(path: string, form: Record<string, string> = {}, withCsrf = true) {
    return this.request('POST', path, { form: withCsrf && this.csrf ? { _csrf: this.csrf, ...form } : form });
  }

  /** Logs in through the login form; asserts it worked (a redirect into the console and a session cookie). */
  async login(name: string, password: string): Promise<void> {
    await this.get('/console/login');
    const res = await this.post('/console/login', { name, password });
    assert.equal(res.status, 303, res.text);
    assert.ok(this.cookies.has('fg_session'), 'a session cookie was set');
    await this.get('/console/');
  }
}

/** One HTTP(S) exchange, redirects not followed. */
function send(url: URL, options: { method: string; headers: Record<string, string>; localAddress?: string; ca?: string }, body?: string): Promise<{ status: number; text: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The error code a console page shows (`[FG_…]`), or the API's JSON one. */
export function shownCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return /\[(FG_[A-Z0-9_]+)\]/.exec(text)?.[1];
  }
}
