import assert from 'node:assert/strict';

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

  constructor(readonly base: string) {}

  async request(method: string, path: string, options: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string; location: string | null; headers: Headers }> {
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
    const res = await fetch(`${this.base}${path}`, { method, headers, body, redirect: 'manual' });
    this.lastSetCookie = res.headers.getSetCookie();
    for (const line of this.lastSetCookie) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      // An expiry in the past (or an empty value) is how a server clears a cookie.
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, text, location: res.headers.get('location'), headers: res.headers };
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

/** The error code a console page shows (`[FG_…]`), or the API's JSON one. */
export function shownCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return /\[(FG_[A-Z0-9_]+)\]/.exec(text)?.[1];
  }
}
