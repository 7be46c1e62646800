// A real browser for the pages: Playwright (playwright-core, which downloads no browser) driving Debian's chromium
// by its executable path, headless, on 127.0.0.1 only. An area launches it once in before() and closes it in after();
// each test takes a fresh page in a context of its own (an empty cookie jar), which collects what went wrong on the
// pages it showed, and may take full-page screenshots for the CI output.
import { access, constants, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { environment } from './harness.mjs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Every wait of a page (navigation, selector, click) fails after this; a page of Tessera's answers in milliseconds. */
export const PAGE_TIMEOUT_MS = 15_000;

/**
 * Runs as root in a container: no sandbox, no GPU, shared memory in /tmp rather than a /dev/shm that containers keep
 * small (Debian's launcher means to add that flag by itself, but its check fails where /dev/shm shows up twice). The
 * rest keeps Chromium from calling home (component updates, sync, safe-browsing lists, QUIC probes), which here
 * would only be refused; hosts that are not 127.0.0.1 do not resolve, so a page that loads anything from elsewhere
 * shows it as a failed request instead of waiting on it.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-proxy-server',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** Chromium, headless, from TESSERA_CHROMIUM or Debian's package; Playwright gives it a fresh profile directory. */
export async function launchChromium() {
  const executablePath = process.env.TESSERA_CHROMIUM || DEFAULT_CHROMIUM;
  try {
    await access(executablePath, constants.X_OK);
  } catch {
    throw new Error(`no Chromium at ${executablePath}: install Debian's package (apt-get install chromium) or set TESSERA_CHROMIUM`);
  }

  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 });
}

/**
 * A page in a new context. The URL prefixes in stopAt belong to applications that have no server (their redirect
 * URIs are only observed): while the page is open, a placeholder answers on their loopback ports, so the browser lands
 * on the URL and the test reads it. (Playwright's request routing would not do: it never sees the hops of a redirect,
 * and sign-in reaches an application through one.) Other options are Playwright's for the context (viewport,
 * isMobile, ...). Returns { context, page, problems, landed, close() }: problems({ origin }) lists the page errors,
 * console errors and failed requests seen so far on pages of that origin (all pages without it), as lines a test
 * can assert empty; landed lists the URLs the applications were asked for.
 */
export async function newPage(browser, { stopAt = [], timeout = PAGE_TIMEOUT_MS, ...contextOptions } = {}) {
  const landed = [];
  const applications = [];
  const stopApplications = () => Promise.all(applications.map((server) => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  })));
  let context;
  try {
    for (const origin of new Set(stopAt.map((prefix) => new URL(prefix).origin))) applications.push(await placeholder(origin, landed));
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', ...contextOptions });
  } catch (error) {
    await stopApplications();
    throw error;
  }

  context.setDefaultTimeout(timeout);
  context.setDefaultNavigationTimeout(timeout);

  const seen = [];
  const record = (kind, pageUrl, text) => seen.push({ kind, pageUrl: pageUrl ?? '', text });
  context.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'assert') return;
    const { url, lineNumber } = message.location();
    // The browser asks every origin for /favicon.ico by itself; a page that names no icon has not asked for one.
    if (new URL(url || 'about:blank').pathname === '/favicon.ico' && /^Failed to load resource/.test(message.text())) return;
    record(`console ${message.type()}`, message.page()?.url(), `${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
  });
  context.on('weberror', (error) => record('page error', error.page()?.url(), error.error().message));
  context.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? 'failed';
    // A navigation started while a request was in flight cancels it; that is the browser's doing, not the page's.
    if (failure !== 'net::ERR_ABORTED') record('request failed', request.frame()?.url(), `${request.method()} ${request.url()}: ${failure}`);
  });

  const page = await context.newPage();
  return {
    context,
    page,
    landed,
    problems({ origin } = {}) {
      return seen
        .filter((problem) => !origin || problem.pageUrl.startsWith(`${new URL(origin).origin}/`))
        .map(({ kind, pageUrl, text }) => `${kind} on ${pageUrl}: ${text}`);
    },
    async close() {
      await context.close();
      await stopApplications();
    },
  };
}

/** An application's stand-in on its loopback origin: every request gets the same small page, and is noted. */
async function placeholder(origin, landed) {
  const { hostname, port } = new URL(origin);
  if (hostname !== '127.0.0.1') throw new Error(`an application at ${origin} is not on 127.0.0.1`);
  const server = createServer((request, response) => {
    if (request.url !== '/favicon.ico') landed.push(new URL(request.url, origin).href);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Application</title></head><body><p>Back at the application.</p></body></html>',
    );
  });
  await new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`the application's port ${port} is taken: ${error.message}`)));
    server.listen(Number(port), hostname, resolve);
  });
  return server;
}

/** Where screenshots go: TESSERA_SCREENSHOTS (CI puts it in its output folder), or the suite's temporary directory. */
export async function screenshotDirectory() {
  let fallback;
  try {
    fallback = join(environment().dir, 'screenshots');
  } catch {
    fallback = join(tmpdir(), 'tessera-screenshots');
  }

  const dir = process.env.TESSERA_SCREENSHOTS || fallback;
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A full-page PNG of page named name (".png" added when missing); returns its path. */
export async function screenshot(page, name) {
  const file = join(await screenshotDirectory(), `${name.replace(/[^\w.-]+/g, '-').replace(/\.png$/i, '')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
