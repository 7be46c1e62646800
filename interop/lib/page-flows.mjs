// Steps that Chromium page tests share: an application's authorization request as openid-client builds it, the code
// grant, oidc-provider's development login and consent pages, and what every page of Tessera's owes a person.
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { screenshot } from './chromium.mjs';
import { USER_SCOPE } from './harness.mjs';

const UPSTREAM_PASSWORD = 'any password will do'; // oidc-provider's development login accepts any

/** An authorization request of app-one (public, PKCE S256, state, nonce) as openid-client builds it. */
export async function authorizationRequest(env, config, parameters = {}) {
  config ??= await env.client('app-one');
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env.app.one.redirectUri,
    scope: USER_SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });
  return { url, codeVerifier, state, nonce };
}

/** The code grant for the URL the browser landed on, checking state and nonce; the tokens. */
export function redeem(config, callbackUrl, request) {
  return client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
}

/**
 * oidc-provider's development interactions, as a person fills them in: its login form (any password), then its
 * consent form; the browser then goes back through Tessera's callback to the application (or wherever `until` says,
 * for a test sign-in that ends on Tessera's own page). Returns where it landed.
 */
export async function upstreamSignIn(page, env, { account, name = 'upstream', until = (url) => url.href.startsWith(env.app.one.redirectUri) }) {
  await page.waitForURL((url) => url.origin === env.upstream.issuer && url.pathname.startsWith('/interaction/'));
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill(UPSTREAM_PASSWORD);
  await screenshot(page, `browser-${name}`);
  await page.locator('button[type="submit"]').click();

  await page.getByRole('button', { name: 'Continue' }).waitFor();
  await screenshot(page, `browser-${name}-consent`);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(until);
  return new URL(page.url());
}

/** The element that has the keyboard focus: tag, name and type. */
export function focused(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    return { tag: element.tagName.toLowerCase(), name: element.getAttribute('name') ?? '', type: element.getAttribute('type') ?? '' };
  });
}

/**
 * What every page of Tessera's owes a person: a language, a title, a label for every field, and, at a given width,
 * no content wider than the screen.
 */
export async function assertUsable(page, { width } = {}) {
  const facts = await page.evaluate(() => ({
    lang: document.documentElement.getAttribute('lang') ?? '',
    title: document.title.trim(),
    scrollWidth: document.documentElement.scrollWidth,
    unlabelled: [...document.querySelectorAll('input, select, textarea')]
      .filter((field) => !['hidden', 'submit', 'button', 'reset', 'image'].includes(field.type))
      .filter((field) => ![...field.labels].some((label) => label.textContent.trim()) && !field.getAttribute('aria-label') && !field.getAttribute('aria-labelledby'))
      .map((field) => field.outerHTML),
  }));
  const where = new URL(page.url()).pathname;
  assert.match(facts.lang, /^[a-z]{2,3}(-[A-Za-z0-9]+)*$/, `${where}: <html lang> names a language`);
  assert.ok(facts.title, `${where}: the page has a <title>`);
  assert.deepEqual(facts.unlabelled, [], `${where}: every field has a label`);
  if (width) assert.ok(facts.scrollWidth <= width, `${where}: ${facts.scrollWidth} px of content on a ${width} px screen scrolls sideways`);
}
