import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchChromium, newPage, screenshot } from '../lib/chromium.mjs';
import { assertUsable, authorizationRequest, redeem, upstreamSignIn } from '../lib/page-flows.mjs';
import { AREA_TIMEOUT_MS, environment, generatedSecret } from '../lib/harness.mjs';
import { SAML_USER } from '../lib/saml-idp.mjs';

/** A customer onboarded after start: the platform team made its organization and sent its IT admin a setup link. */
const CUSTOMER = { organization: 'st-judes', name: "St Jude's Clinic", domain: 'stjudes.example' };

/** Another customer, whose draft the first customer's portal session must not reach. */
const OTHER = { organization: 'mercy-west', connection: 'mercywest-draft' };

const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

export default () => describe("16. The setup portal in Chromium: a customer's IT admin connects OIDC and SAML IdPs, tests them (a wrong certificate first), activates them, and users sign in", { timeout: AREA_TIMEOUT_MS * 2 }, () => {
  let chromium;
  let admin; // the IT admin's page, in the portal session the setup link opened
  let link;
  const made = {};

  before(async () => {
    const env = environment();
    chromium = await launchChromium();
    const organization = await env.admin('POST', 'organizations', { Id: CUSTOMER.organization, DisplayName: CUSTOMER.name, Domains: [CUSTOMER.domain] });
    assert.equal(organization.status, 201, JSON.stringify(organization.body));
    const other = await env.admin('POST', 'organizations', { Id: OTHER.organization });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const draft = await env.admin('POST', `organizations/${OTHER.organization}/connections`, {
      Id: OTHER.connection, Protocol: 'oidc', Authority: env.upstream.issuer, ClientId: 'someone', ClientSecret: generatedSecret(), status: 'draft',
    });
    assert.equal(draft.status, 201, JSON.stringify(draft.body));
    const created = await env.admin('POST', `organizations/${CUSTOMER.organization}/setup-links`);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    link = created.body.url;
    admin = await newPage(chromium);
  });

  after(async () => {
    await admin?.close();
    await chromium?.close();
  });

  test('the setup link opens the portal for the organization after one press of a button', async () => {
    const { page } = admin;
    await page.goto(link);
    await assertUsable(page);
    await screenshot(page, 'portal-setup-link');
    await page.getByRole('button', { name: 'Continue setup' }).click();
    await page.waitForURL((url) => url.pathname === '/portal');
    assert.equal(await page.locator('h1').innerText(), `Set up sign-in for ${CUSTOMER.name}`);
    await assertUsable(page);
    await screenshot(page, 'portal-overview');
  });

  test('an OIDC connection to oidc-provider: the redirect URI to copy, the form, a test sign-in that passes, activation', async () => {
    const env = environment();
    const { page } = admin;
    await page.getByRole('link', { name: 'Add a connection' }).click();
    await page.waitForURL((url) => url.pathname === '/portal/connections/new');
    await assertUsable(page);
    await screenshot(page, 'portal-choose-provider');
    await page.getByRole('link', { name: 'Another OpenID Connect provider' }).click();
    await page.waitForURL((url) => url.pathname === '/portal/connections/new/oidc');
    await assertUsable(page);
    await screenshot(page, 'portal-oidc-form');

    // What the IT admin copies into their IdP's screens, and registers there.
    const redirectUri = await page.locator('#copy-redirect-uri').inputValue();
    assert.match(redirectUri, new RegExp(`^${env.tesseraUrl}/oidc/[^/]+/callback$`));
    const upstreamClient = { clientId: 'tessera-stjudes', clientSecret: generatedSecret() };
    await env.upstream.registerClient({ ...upstreamClient, redirectUris: [redirectUri] });

    await page.getByLabel('Issuer URL').fill(env.upstream.issuer);
    await page.getByLabel('Client ID').fill(upstreamClient.clientId);
    await page.getByLabel('Client secret').fill(upstreamClient.clientSecret);
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/portal/connections/') && url.searchParams.has('saved'));
    made.oidc = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1));
    assert.equal(await page.locator('#connection-status').innerText(), 'Draft');
    await assertUsable(page);
    await screenshot(page, 'portal-oidc-draft');

    await page.getByRole('button', { name: 'Test connection' }).click();
    await upstreamSignIn(page, env, { account: 'stm-1002', name: 'portal-oidc-upstream', until: (url) => url.pathname.startsWith('/portal/tests/') });
    assert.equal(await page.locator('#test-outcome').innerText(), 'Passed');
    assert.match(await page.locator('#claims').innerText(), /bob@stmarys\.example/, 'what the IdP sent is shown');
    await assertUsable(page);
    await screenshot(page, 'portal-oidc-test-passed');

    await page.getByRole('link', { name: 'Back to the connection' }).click();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.locator('#connection-status', { hasText: 'Active' }).waitFor();
    await screenshot(page, 'portal-oidc-active');
  });

  test('a SAML connection with a wrong certificate fails its test with both fingerprints and the fix; the IdP metadata pasted instead passes', async () => {
    const env = environment();
    const { page } = admin;
    await page.goto(`${env.tesseraUrl}/portal/connections/new/saml`);
    await assertUsable(page);
    await screenshot(page, 'portal-saml-form');
    const metadataUrl = await page.locator('#copy-sp-metadata-url').inputValue();
    const acsUrl = await page.locator('#copy-acs-url').inputValue();
    assert.match(acsUrl, new RegExp(`^${env.tesseraUrl}/saml/[^/]+/acs$`));
    env.samlIdp.addServiceProvider(metadataUrl); // the IT admin registers Tessera at the IdP with its metadata URL
    env.samlIdp.respondWith({ mode: 'assertion' });

    // First by hand, with the wrong certificate pasted.
    await page.getByText('Enter the identity provider by hand instead').click();
    await page.getByLabel('Identity provider entity ID (issuer)').fill(env.samlIdp.entityId);
    await page.getByLabel('Single sign-on URL (HTTP-Redirect)').fill(env.samlIdp.ssoUrl);
    await page.getByLabel('Signing certificate (PEM)').fill(env.samlIdp.wrongCertificatePem());
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/portal/connections/') && url.searchParams.has('saved'));
    made.saml = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1));
    assert.equal(metadataUrl, `${env.tesseraUrl}/saml/${made.saml}/metadata`, 'the values shown before saving are the connection\'s');

    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/portal/tests/')); // the IdP's form posts to the ACS, which shows the verdict
    assert.equal(await page.locator('#test-outcome').innerText(), 'Failed');
    const check = page.locator('li.check[data-check="signing_certificate"]');
    await check.waitFor();
    const text = await check.innerText();
    assert.match(text, /How to fix it/);
    assert.match(text, /Tessera expects/);
    assert.match(text, /Your identity provider sent/);
    assert.match(text, /([0-9A-F]{2}:){31}[0-9A-F]{2}/, 'a SHA-256 fingerprint as IdP consoles show them');
    await assertUsable(page);
    await screenshot(page, 'portal-saml-test-wrong-certificate');

    // The fix: paste the IdP's own metadata.
    await page.goto(`${env.tesseraUrl}/portal/connections/${encodeURIComponent(made.saml)}`);
    assert.equal(await page.getByRole('button', { name: 'Activate' }).getAttribute('class'), 'secondary', 'a failed test does not let the connection be activated');
    await page.getByLabel('Identity provider metadata (XML)').fill(env.samlIdp.metadataXml);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL((url) => url.searchParams.has('saved'));
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/portal/tests/'));
    assert.equal(await page.locator('#test-outcome').innerText(), 'Passed');
    assert.match(await page.locator('#claims').innerText(), new RegExp(SAML_USER.attributes.email[0].replace('.', '\\.')));
    await screenshot(page, 'portal-saml-test-passed');
    await page.getByRole('link', { name: 'Back to the connection' }).click();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.locator('#connection-status', { hasText: 'Active' }).waitFor();
    await screenshot(page, 'portal-saml-active');
  });

  test('users of the organization then sign in to an application through each connection', async () => {
    const env = environment();
    assert.ok(made.oidc && made.saml, 'both connections were made by the tests before');
    const config = await env.client('app-one');
    for (const [connection, account] of [[made.oidc, 'stm-1005'], [made.saml, null]]) {
      const request = await authorizationRequest(env, config, { connection });
      const { page, problems, landed, close } = await newPage(chromium, { stopAt: [env.app.one.redirectUri] });
      try {
        await page.goto(request.url.href);
        const callback = account
          ? await upstreamSignIn(page, env, { account, name: 'portal-user-upstream' })
          : (await page.waitForURL((url) => url.href.startsWith(env.app.one.redirectUri)), new URL(page.url()));
        assert.deepEqual(landed, [callback.href]);
        const tokens = await redeem(config, callback, request);
        assert.equal(tokens.claims().org, CUSTOMER.organization, `${connection}: the user belongs to the new organization`);
        assert.deepEqual(problems({ origin: env.tesseraUrl }), []);
      } finally {
        await close();
      }
    }
  });

  test('the overview lists both connections as active, and reads on a phone without sideways scrolling', async () => {
    const env = environment();
    const { page } = admin;
    await page.goto(`${env.tesseraUrl}/portal`);
    const table = await page.locator('table').first().innerText();
    assert.equal((table.match(/Active/g) ?? []).length, 2, table);
    await screenshot(page, 'portal-overview-done');
    // The same session on a narrow screen.
    await page.setViewportSize(PHONE.viewport);
    await assertUsable(page, { width: 375 });
    await screenshot(page, 'portal-overview-phone');
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  test('the setup link cannot be opened twice', async () => {
    const { page, close } = await newPage(chromium);
    try {
      const response = await page.goto(link);
      assert.equal(response.status(), 410);
      assert.match(await page.locator('h1').innerText(), /already been used/);
      assert.equal(await page.getByRole('button', { name: 'Continue setup' }).count(), 0);
      await assertUsable(page);
      await screenshot(page, 'portal-link-used');
    } finally {
      await close();
    }
  });

  test("the portal session cannot read or change another organization's connection", async () => {
    const env = environment();
    const { page } = admin;
    for (const path of [`/portal/connections/${OTHER.connection}`, '/portal/connections/stmarys-oidc']) {
      const response = await page.goto(`${env.tesseraUrl}${path}`);
      assert.equal(response.status(), 404, path);
      assert.match(await page.locator('h1').innerText(), /Not found/);
    }

    await screenshot(page, 'portal-other-organization');
    // A forged activation from this session, with its own valid antiforgery token, changes nothing either.
    await page.goto(`${env.tesseraUrl}/portal`);
    const token = await page.locator('input[name="__RequestVerificationToken"]').first().inputValue();
    const forged = await page.request.post(`${env.tesseraUrl}/portal/connections/${OTHER.connection}?handler=Activate`, { form: { __RequestVerificationToken: token } });
    assert.equal(forged.status(), 404);
    const other = await env.admin('GET', `organizations/${OTHER.organization}/connections/${OTHER.connection}`);
    assert.equal(other.body.status, 'draft');
  });
});
