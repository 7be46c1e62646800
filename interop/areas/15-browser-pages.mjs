import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage, screenshot } from '../lib/chromium.mjs';
import { assertUsable, authorizationRequest, focused, redeem, upstreamSignIn } from '../lib/page-flows.mjs';
import { AREA_TIMEOUT_MS, CONNECTION, environment, generatedSecret } from '../lib/harness.mjs';
import { SAML_USER } from '../lib/saml-idp.mjs';
import { selfSignedRsa } from '../lib/x509.mjs';

/** A phone held upright: 375 CSS pixels wide, laid out as a mobile browser does (the meta viewport counts). */
const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const UNKNOWN_DOMAIN_MESSAGE = /No organization uses that email domain here/;

/** Made after start through the Admin API, as the portal will: an organization with connections of its own. */
const LATE = {
  organization: 'st-lukes',
  oidc: 'stlukes-oidc',
  saml: 'stlukes-saml',
  wrongCertificate: 'stlukes-saml-wrong-certificate',
};

export default () => describe("15. Tessera's pages in Chromium (Playwright): sign-in page, upstream sign-in, connections made later", { timeout: AREA_TIMEOUT_MS }, () => {
  let chromium;
  before(async () => { chromium = await launchChromium(); });
  after(() => chromium?.close());

  test('the email page works from the keyboard (Tab, Enter), and says inline when no organization uses the domain', async () => {
    const env = environment();
    const { page, problems, close } = await newPage(chromium);
    try {
      await page.goto((await authorizationRequest(env)).url.href);
      assert.equal(new URL(page.url()).pathname, '/signin', `/authorize asks for the email first (at ${page.url()})`);
      await assertUsable(page);
      await screenshot(page, 'browser-email');

      assert.deepEqual(await focused(page), { tag: 'input', name: 'email', type: 'email' }, 'the email field has the focus as the page opens');
      // From the top of the page, as someone who tabs in: the email field first, then the button. A click on the
      // page's empty top corner takes the focus away and makes that corner where Tab starts (a blur alone would
      // leave Chromium's starting point at the email field).
      await page.mouse.click(2, 2);
      assert.equal((await focused(page)).tag, 'body', 'nothing has the focus');
      await page.keyboard.press('Tab');
      assert.deepEqual(await focused(page), { tag: 'input', name: 'email', type: 'email' }, 'Tab reaches the email field first');
      await page.keyboard.press('Tab');
      assert.deepEqual(await focused(page), { tag: 'button', name: '', type: 'submit' }, 'the next Tab reaches the Continue button');
      await page.keyboard.press('Shift+Tab');
      assert.equal((await focused(page)).name, 'email', 'Shift+Tab goes back to the email field');
      await page.keyboard.type('someone@unknown.example');
      await page.keyboard.press('Enter');

      const message = page.getByRole('alert');
      await message.waitFor();
      assert.match(await message.innerText(), UNKNOWN_DOMAIN_MESSAGE);
      assert.equal(new URL(page.url()).pathname, '/signin', 'the message is on the email page itself');
      assert.equal(await page.locator('#email').inputValue(), 'someone@unknown.example', 'what was typed is still there to correct');
      await assertUsable(page);
      await screenshot(page, 'browser-email-unknown-domain');
      assert.deepEqual(problems({ origin: env.tesseraUrl }), []);
    } finally {
      await close();
    }
  });

  test('on a phone 375 px wide the email page, its message and the connection chooser need no sideways scrolling', async () => {
    const env = environment();
    const { page, problems, close } = await newPage(chromium, PHONE);
    try {
      await page.goto((await authorizationRequest(env)).url.href);
      await assertUsable(page, { width: 375 });
      await screenshot(page, 'browser-email-phone');

      await page.locator('#email').fill('someone@unknown.example');
      await page.locator('#email').press('Enter');
      await page.getByRole('alert').waitFor();
      await assertUsable(page, { width: 375 });
      await screenshot(page, 'browser-email-unknown-domain-phone');

      await page.locator('#email').fill('alice@stmarys.example');
      await page.locator('#email').press('Enter');
      await page.waitForURL((url) => url.pathname === '/signin/choose');
      await assertUsable(page, { width: 375 });
      await screenshot(page, 'browser-choose-phone');
      assert.deepEqual(problems({ origin: env.tesseraUrl }), []);
    } finally {
      await close();
    }
  });

  test("alice signs in through St Mary's oidc-provider in Chromium and app-one gets a code that openid-client redeems", async () => {
    const env = environment();
    const config = await env.client('app-one');
    const request = await authorizationRequest(env, config);
    const { page, problems, landed, close } = await newPage(chromium, { stopAt: [env.app.one.redirectUri] });
    try {
      await page.goto(request.url.href);
      await page.locator('#email').fill('alice@stmarys.example');
      await screenshot(page, 'browser-email-filled');
      await page.locator('#email').press('Enter');

      await page.waitForURL((url) => url.pathname === '/signin/choose');
      await assertUsable(page);
      await screenshot(page, 'browser-choose');
      await page.locator(`button[name="connection"][value="${CONNECTION}"]`).click();

      const callback = await upstreamSignIn(page, env, { account: 'stm-1001' });
      assert.deepEqual(landed, [callback.href], 'the application was reached once, at its redirect URI');
      const tokens = await redeem(config, callback, request);
      assert.equal(tokens.claims().email, 'alice@stmarys.example');
      assert.equal(tokens.claims().org, 'st-marys');
      assert.deepEqual(problems({ origin: env.tesseraUrl }), []);
    } finally {
      await close();
    }
  });

  test('an OIDC connection made through the Admin API signs in through a client the upstream registered after start', async () => {
    const env = environment();
    await ensureLateOrganization(env);
    // What the portal shows the admin once the connection is picked, and what the admin registers at the IdP.
    const callbackUrl = `${env.tesseraUrl}/oidc/${LATE.oidc}/callback`;
    const upstreamClient = { clientId: 'tessera-stlukes', clientSecret: generatedSecret() };
    await env.upstream.registerClient({ ...upstreamClient, redirectUris: [callbackUrl] });
    const created = await env.admin('POST', `organizations/${LATE.organization}/connections`, {
      Id: LATE.oidc, Protocol: 'oidc', Authority: env.upstream.issuer,
      ClientId: upstreamClient.clientId, ClientSecret: upstreamClient.clientSecret, Scopes: ['openid', 'email', 'profile'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    const config = await env.client('app-one');
    const request = await authorizationRequest(env, config, { connection: LATE.oidc });
    const { page, problems, landed, close } = await newPage(chromium, { stopAt: [env.app.one.redirectUri] });
    try {
      await page.goto(request.url.href);
      const callback = await upstreamSignIn(page, env, { account: 'stm-1002', name: 'late-oidc' });
      assert.deepEqual(landed, [callback.href]);
      const tokens = await redeem(config, callback, request);
      assert.equal(tokens.claims().org, LATE.organization);
      assert.equal(tokens.claims().email, 'bob@stmarys.example');
      assert.deepEqual(problems({ origin: env.tesseraUrl }), []);
    } finally {
      await close();
    }
  });

  test("a SAML connection made of the IdP's pasted entity id, SSO URL and certificate signs in once the IdP trusts its metadata URL", async () => {
    const env = environment();
    await ensureLateOrganization(env);
    await createSamlConnection(env, LATE.saml, env.samlIdp.certificatePem);
    env.samlIdp.respondWith({ mode: 'assertion' });

    const config = await env.client('app-one');
    const request = await authorizationRequest(env, config, { connection: LATE.saml });
    const { page, problems, landed, close } = await newPage(chromium, { stopAt: [env.app.one.redirectUri] });
    try {
      // The IdP's answer is a form that submits itself to Tessera's ACS, which sends the browser on to the app.
      await page.goto(request.url.href);
      await page.waitForURL((url) => url.href.startsWith(env.app.one.redirectUri));
      assert.deepEqual(landed, [page.url()]);
      const tokens = await redeem(config, new URL(page.url()), request);
      assert.equal(tokens.claims().org, LATE.organization);
      assert.equal(tokens.claims().email, SAML_USER.attributes.email[0]);
      assert.equal(env.samlIdp.requests.at(-1).issuer, `${env.tesseraUrl}/saml/${LATE.saml}`, "the IdP served the new connection's AuthnRequest");
      assert.deepEqual(problems({ origin: env.tesseraUrl }), []);
    } finally {
      await close();
    }
  });

  test('with a wrong certificate pasted, the signed Response is refused on Tessera\'s error page and the app gets nothing', async () => {
    const env = environment();
    await ensureLateOrganization(env);
    const wrong = env.samlIdp.wrongCertificatePem();
    assert.notEqual(wrong, env.samlIdp.certificatePem);
    assert.equal(env.samlIdp.wrongCertificatePem(), wrong, 'the same wrong certificate every time');
    await createSamlConnection(env, LATE.wrongCertificate, wrong);
    env.samlIdp.respondWith({ mode: 'assertion' });

    const request = await authorizationRequest(env, await env.client('app-one'), { connection: LATE.wrongCertificate });
    const idpErrors = env.samlIdp.errors.length;
    const { page, problems, landed, close } = await newPage(chromium, { stopAt: [env.app.one.redirectUri] });
    try {
      const acsUrl = `${env.tesseraUrl}/saml/${LATE.wrongCertificate}/acs`;
      const answer = page.waitForResponse((response) => response.url() === acsUrl);
      await page.goto(request.url.href);
      assert.equal((await answer).status(), 400);
      await page.waitForURL(acsUrl); // the browser stays on the ACS
      await page.waitForLoadState();
      assert.deepEqual(env.samlIdp.errors.slice(idpErrors), [], 'the IdP accepted the AuthnRequest and answered');
      const text = await page.locator('main').innerText();
      assert.match(text, /Sign-in failed/);
      assert.match(text, /signature_invalid/, 'refused for the signature, which no pasted certificate verifies');
      await assertUsable(page);
      await screenshot(page, 'browser-saml-wrong-certificate');
      assert.deepEqual(landed, [], 'nothing reached the application');
      // The error page's own 400, which Chromium notes in the console, is the only thing it may report.
      const ownStatus = `Failed to load resource: the server responded with a status of 400 (Bad Request) (${acsUrl}:0)`;
      assert.deepEqual(problems({ origin: env.tesseraUrl }).filter((line) => !line.endsWith(ownStatus)), []);
    } finally {
      await close();
    }
  });
});

/** St Luke's, an organization made through the Admin API after start (once, whichever test needs it first). */
async function ensureLateOrganization(env) {
  const existing = await env.admin('GET', `organizations/${LATE.organization}`);
  if (existing.status === 200) return;
  const created = await env.admin('POST', 'organizations', { Id: LATE.organization, DisplayName: "St Luke's", Domains: ['stlukes.example'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
}

/**
 * A saml2 connection as an admin makes it from the IdP's values pasted into a form (entity id, SSO URL, signing
 * certificate) with a key pair of its own for signed AuthnRequests; the IdP is then given its metadata URL.
 */
async function createSamlConnection(env, id, certificatePem) {
  const spKey = selfSignedRsa({ commonName: `Tessera ${id}` });
  const created = await env.admin('POST', `organizations/${LATE.organization}/connections`, {
    Id: id, Protocol: 'saml2', DisplayName: `St Luke's SAML (${id})`,
    EntityId: env.samlIdp.entityId, SsoUrl: env.samlIdp.ssoUrl, Certificates: [certificatePem],
    SpCertificate: spKey.certificatePem, SpPrivateKey: spKey.privateKeyPem,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const metadataUrl = `${env.tesseraUrl}/saml/${id}/metadata`;
  const metadata = await fetch(metadataUrl);
  assert.equal(metadata.status, 200, `Tessera serves the new connection's SP metadata at ${metadataUrl}`);
  env.samlIdp.addServiceProvider(metadataUrl);
}
