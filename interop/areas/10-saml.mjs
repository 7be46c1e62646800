import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import samlify from 'samlify';
import schemaValidator from 'samlify-validator-js';
import { scopes, verifyAccessToken } from '../lib/access-tokens.mjs';
import { Browser } from '../lib/browser.mjs';
import { signIn } from '../lib/flows.mjs';
import {
  AREA_TIMEOUT_MS, CONNECTION, environment, ORGANIZATION, REPORTS_AUDIENCE, SAML_CONNECTION, SAML_LOOSE_CONNECTION, USER_SCOPE,
} from '../lib/harness.mjs';
import { BINDING, readServiceProviderMetadata, SAML_USER } from '../lib/saml-idp.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const AES256_GCM = 'http://www.w3.org/2009/xmlenc11#aes256-gcm';

// samlify refuses to parse anything without a schema validator; this one checks messages against the SAML 2.0
// protocol, assertion, XML-DSig and XML-Enc schemas (xmllint compiled to JavaScript). Loading it takes seconds.
samlify.setSchemaValidator(schemaValidator);

/** How each round trip's Response is protected, and the connection that accepts it. */
const ROUND_TRIPS = [
  { mode: 'assertion', connection: SAML_CONNECTION, title: 'signed assertion' },
  { mode: 'response', connection: SAML_LOOSE_CONNECTION, title: 'signed Response only (connection with RequireSignedAssertions: false)' },
  { mode: 'both', connection: SAML_CONNECTION, title: 'signed assertion inside a signed Response' },
  { mode: 'encrypted', connection: SAML_CONNECTION, title: 'signed assertion, encrypted (AES-256-GCM, RSA-OAEP, key in KeyInfo)' },
  { mode: 'encrypted-sibling', connection: SAML_CONNECTION, title: 'signed assertion, encrypted, EncryptedKey next to EncryptedData' },
];

export default () => describe('10. SAML 2.0: Tessera as SP of an independent IdP (xml-crypto, xml-encryption; samlify)', { timeout: AREA_TIMEOUT_MS }, () => {
  const subjects = {};

  test("samlify reads Tessera's SP metadata: entity id, HTTP-POST ACS, signing and encryption certificates", async () => {
    const env = environment();
    for (const id of [SAML_CONNECTION, SAML_LOOSE_CONNECTION]) {
      const expected = env.saml[id];
      const response = await fetch(expected.metadataUrl);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type').split(';')[0], 'application/samlmetadata+xml');
      const xml = await response.text();

      const sp = samlify.ServiceProvider({ metadata: xml });
      const meta = sp.entityMeta;
      assert.equal(meta.getEntityID(), expected.entityId);
      assert.equal(meta.getAssertionConsumerService(samlify.Constants.wording.binding.post), expected.acsUrl);
      assert.equal(compact(meta.getX509Certificate('signing')), expected.certificateBase64, 'the signing certificate is the SP key');
      assert.equal(compact(meta.getX509Certificate('encryption')), expected.certificateBase64, 'the encryption certificate is the SP key');
      assert.equal(meta.isAuthnRequestSigned(), true, 'AuthnRequestsSigned="true": the connection has an SP key');
      assert.equal(meta.isWantAssertionsSigned(), id === SAML_CONNECTION, 'WantAssertionsSigned follows RequireSignedAssertions');

      // The same document as the interop IdP reads it: one ACS, HTTP-POST, and AES-256-GCM among the methods offered.
      const read = readServiceProviderMetadata(xml);
      assert.deepEqual(read.assertionConsumerServices.map((s) => [s.binding, s.location]), [[BINDING.post, expected.acsUrl]]);
      assert.ok(read.encryptionMethods.includes(AES256_GCM), `encryption methods: ${read.encryptionMethods}`);
      assert.deepEqual(read.nameIdFormats, [PERSISTENT]);
    }

    const notSaml = await fetch(`${env.tesseraUrl}/saml/${CONNECTION}/metadata`);
    assert.equal(notSaml.status, 404, 'an OIDC connection has no SAML metadata');
  });

  test("samlify's IdentityProvider verifies Tessera's signed HTTP-Redirect AuthnRequest against the SP metadata", async () => {
    const env = environment();
    const config = await env.client('app-one');
    const expected = env.saml[SAML_CONNECTION];
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: env.app.one.redirectUri, scope: 'openid', connection: SAML_CONNECTION,
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
      state: client.randomState(), nonce: client.randomNonce(),
    });
    const before = env.samlIdp.counts.sso;
    const landed = await new Browser({ stopAt: [env.samlIdp.ssoUrl] }).navigate(url);
    assert.equal(landed.status, null, `Tessera sent the browser to the IdP's SSO service (ended at ${landed.url})`);
    assert.equal(env.samlIdp.counts.sso, before, 'the request was captured, not sent');
    const redirect = landed.url;
    assert.deepEqual([...redirect.searchParams.keys()], ['SAMLRequest', 'RelayState', 'SigAlg', 'Signature']);
    assert.equal(redirect.searchParams.get('SigAlg'), RSA_SHA256);

    const idp = samlify.IdentityProvider({ metadata: env.samlIdp.metadataXml });
    const sp = samlify.ServiceProvider({ metadata: await (await fetch(expected.metadataUrl)).text() });
    assert.equal(idp.entityMeta.isWantAuthnRequestsSigned(), true, 'samlify checks the signature because the IdP metadata asks for it');
    const { extract, sigAlg } = await idp.parseLoginRequest(sp, 'redirect', redirectRequest(redirect));
    assert.equal(sigAlg, RSA_SHA256);
    assert.match(extract.request.id, /^_[\w.-]+$/, 'the ID is an xs:ID (an NCName)');
    assert.equal(extract.issuer, expected.entityId);
    assert.equal(extract.request.destination, env.samlIdp.ssoUrl);
    assert.equal(extract.request.assertionConsumerServiceUrl, expected.acsUrl);
    assert.ok(Math.abs(Date.parse(extract.request.issueInstant) - Date.now()) < 60_000, `IssueInstant ${extract.request.issueInstant}`);
    assert.equal(extract.nameIDPolicy.format, PERSISTENT);

    // samlify's check is real: the same request with another RelayState no longer verifies.
    const altered = new URL(redirect);
    altered.search = altered.search.replace(/RelayState=[^&]*/, 'RelayState=someone-elses-state');
    await assert.rejects(idp.parseLoginRequest(sp, 'redirect', redirectRequest(altered)), /ERR_FAILED_MESSAGE_SIGNATURE_VERIFICATION/);

    // Each sign-in asks with a new ID.
    const again = await new Browser({ stopAt: [env.samlIdp.ssoUrl] }).navigate(url);
    const second = await idp.parseLoginRequest(sp, 'redirect', redirectRequest(again.url));
    assert.notEqual(second.extract.request.id, extract.request.id);
  });

  for (const { mode, connection, title } of ROUND_TRIPS) {
    test(`SP-initiated round trip, ${title}: openid-client ends with Tessera tokens, doctor_access and provider_id`, async () => {
      const env = environment();
      const config = await env.client('app-one');
      env.samlIdp.respondWith({ mode });
      const idpBefore = { ...env.samlIdp.counts };
      const errorsBefore = env.samlIdp.errors.length;
      const upstreamBefore = { ...env.upstream.counts };

      const { tokens } = await signIn(env.browser(), config, {
        redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, parameters: { connection },
      });

      assert.deepEqual(env.samlIdp.errors.slice(errorsBefore), [], 'the IdP accepted the AuthnRequest');
      assert.equal(env.samlIdp.counts.sso, idpBefore.sso + 1, 'one AuthnRequest reached the SAML IdP');
      assert.equal(env.samlIdp.counts.responses, idpBefore.responses + 1);
      assert.deepEqual(env.upstream.counts, upstreamBefore, 'the OIDC upstream was not involved');
      const request = env.samlIdp.requests.at(-1);
      assert.equal(request.issuer, env.saml[connection].entityId);
      assert.equal(request.acsUrl, env.saml[connection].acsUrl);
      assertProtection(env.samlIdp.issued.at(-1), mode);

      const claims = tokens.claims();
      assert.equal(claims.iss, config.serverMetadata().issuer);
      assert.deepEqual([claims.aud].flat(), ['app-one']);
      assert.match(claims.sub, UUID, 'the subject is an internal UUID');
      assert.notEqual(claims.sub, SAML_USER.nameId, 'the subject is not the NameID');
      assert.notEqual(claims.sub, SAML_USER.attributes.email[0], 'the subject is not the email');
      assert.equal(claims.org, ORGANIZATION);
      assert.equal(claims.email, 'carol@stmarys.example', 'email from the attribute of that name');
      assert.equal(claims.given_name, 'Carol');
      assert.equal(claims.family_name, 'Chen');
      assert.equal(claims.provider_id, 'P-123', 'AttributeClaims maps ProviderID to provider_id in the ID token');
      assert.equal(claims.Role, undefined, 'unmapped attributes stay out of tokens');

      const { payload } = await verifyAccessToken(config, tokens.access_token, { audience: REPORTS_AUDIENCE });
      assert.equal(payload.sub, claims.sub);
      assert.equal(payload.client_id, 'app-one');
      assert.equal(payload.org, ORGANIZATION);
      assert.equal(payload.provider_id, 'P-123', 'and in the access token');
      assert.ok(scopes(payload).includes('doctor_access'), `Role=doctor grants doctor_access (scope: ${payload.scope})`);
      assert.ok(scopes(payload).includes('read:reports'));
      assert.ok((tokens.scope ?? '').split(' ').includes('doctor_access'), 'the token response grants doctor_access');
      assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

      // The same NameID through the same connection is the same user, however the Response was protected.
      subjects[connection] ??= claims.sub;
      assert.equal(claims.sub, subjects[connection]);
    });
  }

  test("home-realm discovery for stmarys.example offers St Mary's connections; choosing SAML signs in through the IdP", async () => {
    const env = environment();
    const config = await env.client('app-two');
    env.samlIdp.respondWith({ mode: 'assertion' });
    const browser = env.browser();
    const before = env.samlIdp.counts.sso;
    const { tokens } = await signIn(browser, config, {
      redirectUri: env.app.two.redirectUri, scope: USER_SCOPE, choose: SAML_CONNECTION,
      parameters: { login_hint: 'carol@stmarys.example' },
    });
    assert.ok(browser.history.some((line) => line.startsWith('GET ') && new URL(line.slice(4)).pathname === '/signin/choose'), 'Tessera asked which connection');
    assert.equal(env.samlIdp.counts.sso, before + 1);
    assert.equal(tokens.claims().provider_id, 'P-123');
    assert.equal(tokens.claims().sub, subjects[SAML_CONNECTION], 'the same user as through connection=stmarys-saml');
  });

  test('InclusiveNamespaces, values that need escaping, non-ASCII text and a NameID split by a comment: verified, unchanged, read whole', async () => {
    const env = environment();
    const config = await env.client('app-one');
    const attributes = {
      Role: ['doctor'],
      ProviderID: ['P-<9>&"7" 日本'],
      email: ['zoe@stmarys.example'],
      givenName: [`Zoë "Z" O'Brien & <Co>`],
      surname: ['Åström'],
    };
    const signInAs = async (user, options = {}) => {
      env.samlIdp.respondWith({ user, ...options });
      const { tokens } = await signIn(env.browser(), config, {
        redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, parameters: { connection: SAML_CONNECTION },
      });
      return tokens;
    };

    try {
      // Exclusive c14n with a PrefixList on both signatures, as Shibboleth signs; the comment is not part of the value.
      // (xmlsec1 verifies both signatures of such a Response; xml-crypto 6.3.2's own verifier misreads the nested
      // one, canonicalizing its SignedInfo in the namespace scope of the document's first SignedInfo.)
      const split = await signInAs({ nameIdXml: 'stm-saml-zoe<!-- a comment splits the text -->-7d2c', attributes }, {
        mode: 'both', inclusiveNamespaces: ['xs', 'xsi'],
      });
      assert.match(env.samlIdp.issued.at(-1).xml, /<ec:InclusiveNamespaces PrefixList="xs xsi"|<InclusiveNamespaces PrefixList="xs xsi"/);
      const claims = split.claims();
      assert.equal(claims.given_name, attributes.givenName[0]);
      assert.equal(claims.family_name, 'Åström');
      assert.equal(claims.provider_id, attributes.ProviderID[0]);
      const { payload } = await verifyAccessToken(config, split.access_token, { audience: REPORTS_AUDIENCE });
      assert.equal(payload.provider_id, attributes.ProviderID[0]);
      assert.ok(scopes(payload).includes('doctor_access'));

      // xml-crypto's own output, which repeats the PrefixList inside the enveloped-signature transform.
      const raw = await signInAs({ nameId: 'stm-saml-zoe-7d2c', attributes }, { mode: 'assertion', inclusiveNamespaces: ['xs', 'xsi'], asXmlCryptoWritesIt: true });
      assert.match(env.samlIdp.issued.at(-1).xml, /Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#enveloped-signature"><InclusiveNamespaces/);
      assert.equal(raw.claims().sub, claims.sub);

      const whole = await signInAs({ nameId: 'stm-saml-zoe-7d2c', attributes });
      const truncated = await signInAs({ nameId: 'stm-saml-zoe', attributes });
      assert.equal(whole.claims().sub, claims.sub, 'the NameID around the comment is one value: the same user');
      assert.notEqual(truncated.claims().sub, claims.sub, 'and not the text before the comment');
      assert.notEqual(claims.sub, subjects[SAML_CONNECTION], 'nor the interop IdP\'s usual user');
    } finally {
      env.samlIdp.respondWith({ mode: 'assertion' });
    }
  });

  test('a Response whose NameID was changed after signing is refused: error page with a reference, no code for the app', async () => {
    const env = environment();
    env.samlIdp.respondWith({ mode: 'assertion', tamper: (xml) => xml.replace(/(<saml:NameID\b[^>]*>)[^<]*/, '$1stm-saml-mallory') });
    try {
      const refused = await refusedSignIn(env, SAML_CONNECTION);
      assert.ok(env.samlIdp.issued.at(-1).xml.includes('>stm-saml-mallory<'), 'the IdP did send the altered NameID');
      assert.match(refused.body, /signature_invalid/, 'the page names the rule that failed');
      await eventually(async () => assert.match(await env.log(), new RegExp(`SAML response for connection ${SAML_CONNECTION} refused by rule signature_invalid`)));
    } finally {
      env.samlIdp.respondWith({ mode: 'assertion' });
    }
  });

  test('a signed Response around an unsigned assertion is refused where signed assertions are required', async () => {
    const env = environment();
    env.samlIdp.respondWith({ mode: 'response' });
    try {
      const refused = await refusedSignIn(env, SAML_CONNECTION);
      assertProtection(env.samlIdp.issued.at(-1), 'response');
      assert.match(refused.body, /signature_missing/);
    } finally {
      env.samlIdp.respondWith({ mode: 'assertion' });
    }
  });
});

/**
 * An authorization request through connection that must fail at Tessera's ACS: the browser ends on Tessera's error
 * page (400, with a reference), and nothing reaches the application's redirect URI.
 */
async function refusedSignIn(env, connection) {
  const config = await env.client('app-one');
  const browser = env.browser();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env.app.one.redirectUri, scope: USER_SCOPE, connection,
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    state: client.randomState(), nonce: client.randomNonce(),
  });
  const idpPage = await browser.navigate(url);
  assert.equal(idpPage.status, 200, `the IdP answered with its form (${idpPage.url}): ${idpPage.body?.slice(0, 300)}`);
  assert.equal(idpPage.url.origin, env.samlIdp.origin);
  const page = await browser.submitForm(idpPage);

  assert.notEqual(page.status, null, `the browser must not reach the application (it went to ${page.url})`);
  assert.equal(page.url.href, env.saml[connection].acsUrl, 'the browser stays on the ACS');
  assert.equal(page.status, 400);
  assert.match(page.body, /Sign-in failed/);
  assert.match(page.body, /Reference: <code class="reference">[0-9A-F]{12}<\/code>/, 'the page gives a reference to quote');
  const app = new URL(env.app.one.redirectUri).origin;
  assert.deepEqual(browser.history.filter((line) => line.includes(app)), [], 'no request went to the application');
  return page;
}

/** What Tessera received really was protected as the mode says. */
function assertProtection(issued, mode) {
  const { xml } = issued;
  assert.equal(issued.mode, mode);
  const responseSigned = /^<samlp:Response\b[^>]*>\s*<saml:Issuer>[^<]*<\/saml:Issuer><ds:Signature\b/.test(xml);
  const assertionSigned = /<saml:Assertion\b[^>]*>\s*<saml:Issuer>[^<]*<\/saml:Issuer><ds:Signature\b/.test(xml);
  const encrypted = /<saml:EncryptedAssertion\b/.test(xml);
  const expected = {
    assertion: { responseSigned: false, assertionSigned: true, encrypted: false },
    response: { responseSigned: true, assertionSigned: false, encrypted: false },
    both: { responseSigned: true, assertionSigned: true, encrypted: false },
    encrypted: { responseSigned: false, assertionSigned: false, encrypted: true }, // the signature is inside the ciphertext
    'encrypted-sibling': { responseSigned: false, assertionSigned: false, encrypted: true },
  }[mode];
  assert.deepEqual({ responseSigned, assertionSigned, encrypted }, expected, `the ${mode} Response`);
  if (encrypted) assert.doesNotMatch(xml, /NameID|P-123/, 'nothing of the assertion is readable in transit');
}

/**
 * The redirect binding as samlify's parseLoginRequest takes it: the decoded parameters, and the octet string that
 * was signed, built from the parameters exactly as they appear URL-encoded in the query (Bindings §3.4.4.1).
 */
function redirectRequest(url) {
  const raw = Object.fromEntries(url.search.slice(1).split('&').map((pair) => pair.split(/=(.*)/s).slice(0, 2)));
  const octetString = ['SAMLRequest', 'RelayState', 'SigAlg'].filter((name) => name in raw).map((name) => `${name}=${raw[name]}`).join('&');
  return { query: Object.fromEntries(url.searchParams), octetString };
}

/** Retries an assertion for a moment: Tessera's log reaches the file shortly after the request is answered. */
async function eventually(check, { timeoutMs = 3000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function compact(base64) {
  return String(base64).replace(/\s+/g, '');
}
