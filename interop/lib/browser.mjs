// A programmatic browser, just enough for redirect-based sign-in: a cookie jar scoped like a browser's
// (host without port, path, expiry), manual redirect following, and submission of simple HTML forms.
// It stops at any URL the test says belongs to the application (the app has no server: its redirect and
// post-logout URIs are only observed, never fetched).

const MAX_HOPS = 25;
const REQUEST_TIMEOUT_MS = 15_000;

export class Browser {
  /** @type {{ name: string, value: string, host: string, path: string, expires: number | null }[]} */
  #cookies = [];

  /** Every URL this browser requested, in order (for assertions about who was contacted). */
  history = [];

  constructor({ stopAt, headers = {} }) {
    // URL prefixes owned by the application under test.
    this.stopAt = stopAt;
    // Sent with every request (what a proxy in front of the browser adds, such as X-Forwarded-For).
    this.headers = headers;
  }

  /** A second browser holding a copy of this one's cookies (as if they had been copied out of it). */
  fork() {
    const other = new Browser({ stopAt: this.stopAt, headers: this.headers });
    other.#cookies = this.#cookies.map((c) => ({ ...c }));
    return other;
  }

  cookie(name) {
    this.#expire();
    return this.#cookies.find((c) => c.name === name)?.value;
  }

  /**
   * Navigates to url (GET) and follows redirects until an application URL is reached or a page is shown.
   * Returns { url, status, body? } where url is the final location.
   */
  async navigate(url, init = {}) {
    let current = new URL(url);
    let request = { method: 'GET', ...init };
    for (let hop = 0; hop < MAX_HOPS; hop += 1) {
      if (this.#isApplication(current)) {
        return { url: current, status: null };
      }

      const response = await this.#send(current, request);
      if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
        await response.body?.cancel();
        current = new URL(response.headers.get('location'), current);
        request = { method: 'GET' }; // 302/303 after POST become GET, as browsers do
        continue;
      }

      return { url: current, status: response.status, body: await response.text(), headers: response.headers };
    }

    throw new Error(`more than ${MAX_HOPS} redirects from ${url}`);
  }

  /**
   * Submits the single POST form of an HTML page with the page's inputs, overridden by fields (which is also how a
   * submit button's name and value are given). A form without action posts to the page's own URL.
   */
  async submitForm(page, fields = {}) {
    const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page.body);
    if (!form) {
      throw new Error(`no form on ${page.url} (status ${page.status}): ${page.body.slice(0, 500)}`);
    }

    const values = new URLSearchParams();
    for (const input of form[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
      if (name) values.set(decodeEntities(name), decodeEntities(/\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? ''));
    }

    for (const [name, value] of Object.entries(fields)) values.set(name, value);
    const action = /\baction="([^"]*)"/i.exec(form[1])?.[1];
    return this.navigate(action ? new URL(decodeEntities(action), page.url) : page.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: values.toString(),
    });
  }

  async #send(url, request) {
    this.history.push(`${request.method} ${url.href}`);
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(this.headers)) headers.set(name, value);
    const cookie = this.#cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...request, headers, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    for (const line of response.headers.getSetCookie()) this.#store(url, line);
    return response;
  }

  #isApplication(url) {
    return this.stopAt.some((prefix) => url.href.startsWith(prefix));
  }

  // RFC 6265 §5.3, reduced: host-only cookies (no Domain attribute is used by either peer), path, expiry.
  // Ports are ignored, as browsers do: Tessera and the upstream IdP share the cookie jar of 127.0.0.1.
  #store(url, line) {
    const [pair, ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
    let expires = null;
    for (const attribute of attributes) {
      const [key, ...rest] = attribute.trim().split('=');
      const v = rest.join('=');
      switch (key.toLowerCase()) {
        case 'path': path = v || '/'; break;
        case 'expires': if (expires === null) expires = Date.parse(v); break;
        case 'max-age': expires = Date.now() + Number(v) * 1000; break;
        default: break;
      }
    }

    this.#cookies = this.#cookies.filter((c) => !(c.name === name && c.host === url.hostname && c.path === path));
    this.#cookies.push({ name, value, host: url.hostname, path, expires });
    this.#expire();
  }

  #expire() {
    const now = Date.now();
    this.#cookies = this.#cookies.filter((c) => c.expires === null || c.expires > now);
  }

  #cookieHeader(url) {
    this.#expire();
    return this.#cookies
      .filter((c) => c.host === url.hostname && pathMatches(url.pathname, c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

function pathMatches(requestPath, cookiePath) {
  return requestPath === cookiePath
    || (requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'));
}

function decodeEntities(text) {
  return text.replace(/&(#x?[0-9a-f]+|amp|lt|gt|quot|apos);/gi, (_, entity) => {
    const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity.toLowerCase()];
    if (named) return named;
    return String.fromCodePoint(entity[1].toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
  });
}
