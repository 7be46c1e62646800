// Sign-in as an application does it with openid-client: build the authorization request (PKCE S256, state,
// nonce), let the browser carry it through Tessera (and its connection chooser) and the upstream IdP's login and
// consent forms, or the SAML IdP's auto-submitting form, then redeem the code that lands on the application's
// redirect URI.
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { CONNECTION } from './harness.mjs';

const UPSTREAM_PASSWORD = 'any password will do'; // oidc-provider's development login accepts any

/**
 * Authorization request for config's client. Returns the parameters sent and the URL where the browser
 * landed on the application's redirect URI (code or error), after signing in upstream as `account` if asked to.
 * When Tessera asks which of an organization's connections to use, the browser picks `choose` (by default St Mary's
 * OIDC connection, the one the areas before SAML were written for).
 */
export async function authorize(browser, config, { redirectUri, scope, account, choose = CONNECTION, parameters = {} }) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });

  let page = await browser.navigate(url);
  for (let step = 0; page.status !== null; step += 1) {
    if (step > 4) {
      throw stopped(page);
    }

    if (page.status === 200 && page.url.pathname.endsWith('/signin/choose')) {
      page = await browser.submitForm(page, { connection: choose }); // the button of that connection
    } else if (page.status === 200 && /<input[^>]*\bname="SAMLResponse"/.test(page.body)) {
      page = await browser.submitForm(page); // the SAML IdP's HTTP-POST binding, which a browser submits on load
    } else if (/\/interaction\//.test(page.url.pathname)) {
      page = /name="login"/.test(page.body)
        ? await browser.submitForm(page, { login: requireAccount(account), password: UPSTREAM_PASSWORD })
        : await browser.submitForm(page); // consent: "Continue"
    } else {
      throw stopped(page);
    }
  }

  return { callbackUrl: page.url, codeVerifier, state, nonce };
}

/** authorize(), then the code grant with openid-client, checking state, nonce and that an ID token came. */
export async function signIn(browser, config, options) {
  const request = await authorize(browser, config, options);
  const tokens = await client.authorizationCodeGrant(config, request.callbackUrl, {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
  return { ...request, tokens };
}

/** An assert.rejects() matcher for an OAuth error response from the token, introspection or revocation endpoint. */
export function oauthError(code) {
  return (error) => {
    assert.ok(error instanceof client.ResponseBodyError, `expected an OAuth error response, got ${error}`);
    assert.equal(error.error, code, `${error.error}: ${error.error_description}`);
    return true;
  };
}

/** The error for a sign-in that ended on a page of its own (an error page, say); `page` is that page, for its details. */
function stopped(page) {
  return Object.assign(new Error(`sign-in stopped at ${page.url} (status ${page.status}): ${text(page.body)}`), { page });
}

function requireAccount(account) {
  if (!account) throw new Error('the upstream IdP asked for a login, but this sign-in was expected to need none');
  return account;
}

function text(html = '') {
  return html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 600);
}
