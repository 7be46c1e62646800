// Tessera as an OpenID4VCI 1.0 credential issuer of SD-JWT VCs, driven by peers that trust nothing of Tessera's but
// what the standards let them find: an OpenID4VCI wallet (@openid4vc/openid4vci) with a key jose made, openid-client
// for the authorization code flow through Tessera's sign-in and an upstream oidc-provider, and @sd-jwt/sd-jwt-vc as a
// strict verifier that resolves the issuer's keys from each credential's `iss` and checks its status list.
// This area runs a Tessera of its own (samples/credentials.json on the suite's loopback ports): its users carry a
// birthdate and a role upstream, which the shared Tessera's users do not.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import * as client from 'openid-client';
import { Browser } from '../lib/browser.mjs';
import {
  fetchJson, handmadeProof, holderKey, peerIssuer, present, PROOF_TYPE, rfc8414AuthMethodViolations, SD_JWT_VC_TYPE, strictVerifier, wallet,
  wellKnownUrl,
} from '../lib/credential-peers.mjs';
import { signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, CONNECTION, environment, freePorts, generatedSecret, ORGANIZATION, serve } from '../lib/harness.mjs';
import { scimClient } from '../lib/scim-fixtures.mjs';
import { startUpstream } from '../lib/upstream.mjs';

const WALLET = 'staff-wallet';
const ADMIN = 'vc-admin';
const ADMIN_SCOPE = 'tessera:admin';
const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
const BAR = 'bar-tab';
const TABS_API = 'https://tabs.bar.example';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const PRESENTATION_TOKEN_TYPE = 'urn:tessera:token-type:dc+sd-jwt';
/** Another credential issuer, trusted by configuration with its key inline; its credentials are made by @sd-jwt/sd-jwt-vc. */
const PEER_ISSUER = 'https://dmv.state.example';
const PEER_VCT = 'https://dmv.state.example/vct/age';
/** The claims the result token of a presentation may carry: registered ones and the one the configuration maps. */
const RESULT_CLAIMS = new Set(['iss', 'aud', 'sub', 'iat', 'exp', 'nbf', 'jti', 'age_over_21']);

/** A date of birth `years` years and a few days before today, as YYYY-MM-DD (so no age turns over during the run). */
function bornYearsAgo(years) {
  const date = new Date();
  date.setUTCFullYear(date.getUTCFullYear() - years);
  date.setUTCDate(date.getUTCDate() - 3);
  return date.toISOString().slice(0, 10);
}

/** Upstream accounts with a birthdate (OpenID Connect's standard claim, released with `profile`) and a group. */
const ACCOUNTS = {
  'vc-3001': { email: 'noor@stmarys.example', name: 'Noor Rahman', groups: ['Doctors'], birthdate: bornYearsAgo(40) },
  'vc-3002': { email: 'olu@stmarys.example', name: 'Olu Adeyemi', groups: ['Nurses'], birthdate: bornYearsAgo(19) },
  'vc-3003': { email: 'pia@stmarys.example', name: 'Pia Lindqvist', groups: ['Nurses'], birthdate: bornYearsAgo(33) },
};

/**
 * samples/credentials.json on this run's ports: the staff wallet (public, authorization code), an admin client, St
 * Mary's with its OIDC connection to the upstream, rules that turn groups into `staff_role`, a SCIM token, and the
 * two credentials, employee and age.
 */
function configuration({ origin, dir, upstream, walletRedirectUri, barRedirectUri, peer }) {
  return {
    Tessera: {
      Issuer: origin,
      Storage: { Provider: 'Sqlite', ConnectionString: `Data Source=${join(dir, 'credentials.db')}` },
      Keys: { EncryptionKey: 'env:TESSERA_KEK' },
      Network: { AllowPrivateUpstreams: true }, // its upstream IdP listens on 127.0.0.1
      Clients: [
        {
          ClientId: WALLET, DisplayName: 'Staff wallet', Type: 'public', RedirectUris: [walletRedirectUri],
          GrantTypes: ['authorization_code'], Scopes: ['openid', 'credential:employee', 'credential:age'],
        },
        { ClientId: ADMIN, Type: 'confidential', ClientSecret: 'env:ADMIN_SECRET', GrantTypes: ['client_credentials'], Scopes: [ADMIN_SCOPE] },
        {
          ClientId: BAR, DisplayName: 'Bar tab (asks for proof of age)', Type: 'confidential', ClientSecret: 'env:BAR_SECRET',
          GrantTypes: ['client_credentials', TOKEN_EXCHANGE], Scopes: ['verify:age'], RedirectUris: [barRedirectUri], Audiences: [TABS_API],
        },
      ],
      ExchangePolicies: [{ ClientId: BAR, Presentations: ['over-21'], Audiences: [TABS_API], Scopes: ['verify:age'], Impersonation: true }],
      TrustedCredentialIssuers: [{ Id: 'dmv', Issuer: PEER_ISSUER, Vcts: [PEER_VCT], Jwks: peer.jwks, RequireStatus: false }],
      Presentations: [{
        Id: 'over-21',
        Query: {
          credentials: [{
            id: 'age', format: SD_JWT_VC_TYPE, meta: { vct_values: [`${origin}/credentials/types/age`, PEER_VCT] },
            claims: [{ path: ['age_equal_or_over', '21'], values: [true] }],
          }],
        },
        Clients: [BAR],
        Claims: { age_over_21: ['age_equal_or_over', '21'] },
      }],
      Organizations: [{
        Id: ORGANIZATION, DisplayName: "St Mary's Hospital", Domains: ['stmarys.example'],
        Connections: [{
          Id: CONNECTION, Protocol: 'oidc', Authority: upstream.issuer, ClientId: 'tessera', ClientSecret: 'env:UPSTREAM_SECRET',
          Scopes: ['openid', 'email', 'profile'],
        }],
        Rules: [
          { When: { groups: 'Doctors' }, Grant: { Claims: { staff_role: 'doctor' } } },
          { When: { groups: 'Nurses' }, Grant: { Claims: { staff_role: 'nurse' } } },
        ],
        Scim: { Tokens: ['env:SCIM_TOKEN'] },
      }],
      Credentials: [
        {
          Id: 'employee', DisplayName: "St Mary's staff card", Vct: `${origin}/credentials/types/employee`, Organizations: [ORGANIZATION],
          Claims: {
            org: { From: 'org' }, role: { From: 'staff_role' }, given_name: { From: 'given_name' },
            family_name: { From: 'family_name' }, email: { From: 'email' },
          },
          Disclosable: ['role', 'given_name', 'family_name', 'email'], Lifetime: '90.00:00:00',
        },
        {
          Id: 'age', DisplayName: 'Proof of age', Vct: `${origin}/credentials/types/age`, Organizations: [ORGANIZATION],
          Claims: { age_equal_or_over: { From: 'birthdate', Thresholds: [18, 21] } },
          Disclosable: ['age_equal_or_over'], Lifetime: '30.00:00:00',
        },
      ],
    },
  };
}

async function launch(env, cleanups) {
  const [port, upstreamPort, walletPort, barPort] = await freePorts(4);
  const origin = `http://127.0.0.1:${port}`;
  const upstreamSecret = generatedSecret();
  const upstream = await startUpstream({ port: upstreamPort, clientSecret: upstreamSecret, redirectUri: `${origin}/oidc/${CONNECTION}/callback`, accounts: ACCOUNTS });
  cleanups.push(() => upstream.close());
  const walletRedirectUri = `http://127.0.0.1:${walletPort}/callback`;
  const barRedirectUri = `http://127.0.0.1:${barPort}/age-checked`;
  const peer = await peerIssuer(PEER_ISSUER);
  const secrets = { admin: generatedSecret(), scim: generatedSecret(), bar: generatedSecret() };
  const configFile = join(env.dir, 'credentials.json');
  await writeFile(configFile, JSON.stringify(configuration({ origin, dir: env.dir, upstream, walletRedirectUri, barRedirectUri, peer }), null, 2));
  const tessera = await serve({
    args: [env.dll, 'serve', '--config', configFile, '--urls', origin],
    url: origin,
    log: join(env.dir, 'credentials.log'),
    env: {
      TESSERA_KEK: randomBytes(32).toString('base64'), ADMIN_SECRET: secrets.admin, UPSTREAM_SECRET: upstreamSecret, SCIM_TOKEN: secrets.scim,
      BAR_SECRET: secrets.bar,
    },
  });
  cleanups.push(() => tessera.kill());

  const admin = await client.discovery(new URL(origin), ADMIN, undefined, client.ClientSecretBasic(secrets.admin), { execute: [client.allowInsecureRequests] });
  const barAuthorization = `Basic ${Buffer.from(`${BAR}:${secrets.bar}`).toString('base64')}`;
  const barClient = await client.discovery(new URL(origin), BAR, undefined, client.ClientSecretBasic(secrets.bar), { execute: [client.allowInsecureRequests] });
  return {
    barClient,
    origin,
    upstream,
    walletRedirectUri,
    barRedirectUri,
    peer,
    /** The bar's side of Tessera's verifier (a form POST with its client secret): { status, body }. */
    async bar(path, form) {
      const response = await fetch(`${origin}${path}`, {
        method: 'POST',
        headers: { authorization: barAuthorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: response.status, body: await response.json() };
    },
    scim: scimClient({ baseUrl: `${origin}/scim/v2/${ORGANIZATION}`, token: secrets.scim }),
    /** The Admin API as the platform admin: { status, body }. */
    async admin(method, path, body) {
      const { access_token: token } = await client.clientCredentialsGrant(admin, { scope: ADMIN_SCOPE });
      const response = await fetch(`${origin}/admin/v1/${path.replace(/^\//, '')}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
  };
}

/** The wallet's openid-client configuration for Tessera's authorization server (the first of `authorization_servers`). */
function walletClient(issuer) {
  return client.discovery(new URL(issuer), WALLET, undefined, client.None(), { execute: [client.allowInsecureRequests] });
}

/** A user signs in to the staff wallet through Tessera and the upstream (authorization code + PKCE, openid-client). */
async function signInToWallet(vc, issuer, account, scope) {
  const config = await walletClient(issuer);
  const browser = new Browser({ stopAt: [vc.walletRedirectUri] });
  const { tokens } = await signIn(browser, config, {
    redirectUri: vc.walletRedirectUri, scope, account, parameters: { login_hint: ACCOUNTS[account].email },
  });
  return { config, tokens, sub: tokens.claims().sub };
}

/** The credential request as a wallet sends it (OpenID4VCI 1.0 §8.2), for the refusals: { status, body, wwwAuthenticate }. */
async function credentialRequest(metadata, accessToken, body) {
  const response = await fetch(metadata.credential_endpoint, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, wwwAuthenticate: response.headers.get('www-authenticate') };
}

async function freshNonce(metadata) {
  const response = await fetch(metadata.nonce_endpoint, { method: 'POST', signal: AbortSignal.timeout(15_000) });
  assert.equal(response.status, 200);
  const { c_nonce: nonce } = await response.json();
  assert.ok(typeof nonce === 'string' && nonce.length >= 16, 'a c_nonce');
  return nonce;
}

/** The one disclosure of `name` (an object member), from the library's decoding of the issued SD-JWT. */
function disclosuresNamed(decoded, name) {
  return decoded.disclosures.filter((d) => d.key === name);
}

/**
 * The wallet's side of OpenID4VP 1.0, as a strict wallet does it: opens the link, fetches the request object by
 * reference and checks it (unsigned only under the `redirect_uri:` prefix, whose client_id must be the response URI
 * itself, §5.9.3), builds the presentation with `presentFor({ aud, nonce })` and posts the vp_token (the 1.0 shape: an
 * object keyed by credential query id) by direct_post. Answers { status, body } of the response URI.
 */
async function answerPresentation(walletLink, presentFor) {
  const link = new URL(walletLink);
  assert.equal(link.protocol, 'openid4vp:');
  const clientId = link.searchParams.get('client_id');
  const fetched = await fetch(link.searchParams.get('request_uri'), { signal: AbortSignal.timeout(15_000) });
  assert.equal(fetched.status, 200);
  assert.match(fetched.headers.get('content-type') ?? '', /^application\/oauth-authz-req\+jwt/);
  const requestObject = await fetched.text();
  const header = jose.decodeProtectedHeader(requestObject);
  assert.deepEqual([header.alg, header.typ], ['none', 'oauth-authz-req+jwt']);
  const request = jose.decodeJwt(requestObject);
  assert.equal(request.client_id, clientId, 'the request object names the client_id of the link');
  assert.equal(clientId, `redirect_uri:${request.response_uri}`, 'under the redirect_uri: prefix the client_id is the response URI');
  assert.deepEqual([request.response_type, request.response_mode], ['vp_token', 'direct_post']);
  assert.ok(request.nonce && request.state, 'a nonce and a state');
  const [query] = request.dcql_query.credentials;
  const presentation = await presentFor({ aud: clientId, nonce: request.nonce });
  const answer = await fetch(request.response_uri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ vp_token: JSON.stringify({ [query.id]: [presentation] }), state: request.state }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: answer.status, body: await answer.json() };
}

/** The result token, checked as a strict client checks it: signature with the keys at discovery's jwks_uri, iss, aud. */
async function verifiedResult(vc, token) {
  const discovery = await fetchJson(`${vc.origin}/.well-known/openid-configuration`);
  const { payload } = await jose.jwtVerify(token, jose.createRemoteJWKSet(new URL(discovery.jwks_uri)), {
    issuer: discovery.issuer, audience: BAR, algorithms: discovery.id_token_signing_alg_values_supported,
  });
  return payload;
}

export default () => describe('21. Credentials: OpenID4VCI wallet (@openid4vc/openid4vci), strict SD-JWT VC verifier (@sd-jwt/sd-jwt-vc)', { timeout: AREA_TIMEOUT_MS * 3 }, () => {
  const cleanups = [];
  let vc;
  /** Filled as the tests go: the users signed in, and the credentials issued to them with their holders. */
  const users = {};
  const issued = {};

  before(async () => { vc = await launch(environment(), cleanups); }, { timeout: AREA_TIMEOUT_MS });
  after(async () => { for (const cleanup of cleanups.reverse()) await cleanup(); });

  test('Discovery: each metadata document is where its standard derives it from the identifier, and names that identifier exactly', async () => {
    // What an operator configures is an origin; Tessera names it as every URL parser spells it, with its "/".
    const identifier = new URL(vc.origin).href;
    const oidc = await fetchJson(`${vc.origin}/.well-known/openid-configuration`);
    assert.equal(oidc.issuer, identifier, 'OpenID Connect discovery names the identifier with its "/"');

    // OpenID4VCI 1.0 §12.2.2: the wallet derives the metadata URL from the identifier, and §12.2.4 has the
    // document name that identifier as credential_issuer, character for character.
    const metadataUrl = wellKnownUrl(identifier, 'openid-credential-issuer');
    assert.equal(metadataUrl, `${vc.origin}/.well-known/openid-credential-issuer`);
    const metadata = await fetchJson(metadataUrl);
    assert.equal(metadata.credential_issuer, identifier, 'credential_issuer is the identifier the wallet derived the URL from');
    assert.equal(metadata.credential_issuer, oidc.issuer, 'one spelling of the issuer across Tessera');
    for (const endpoint of ['credential_endpoint', 'nonce_endpoint']) {
      assert.ok(metadata[endpoint].startsWith(vc.origin + '/'), `${endpoint} ${metadata[endpoint]}`);
    }

    for (const id of ['employee', 'age']) {
      const configuration = metadata.credential_configurations_supported[id];
      assert.ok(configuration, `credential configuration ${id}`);
      assert.equal(configuration.format, SD_JWT_VC_TYPE);
      assert.equal(configuration.vct, `${vc.origin}/credentials/types/${id}`);
      assert.equal(configuration.scope, `credential:${id}`);
      assert.deepEqual(configuration.cryptographic_binding_methods_supported, ['jwk']);
      assert.ok(configuration.proof_types_supported.jwt.proof_signing_alg_values_supported.includes('ES256'));
    }

    // The authorization servers: each one's RFC 8414 metadata at the URL RFC 8414 §3.1 derives, naming itself exactly.
    assert.equal(metadata.authorization_servers.length, 2);
    assert.equal(metadata.authorization_servers[0], identifier, 'Tessera itself, for the authorization code flow');
    const preAuthorizedServer = metadata.authorization_servers[1];
    assert.equal(preAuthorizedServer, `${vc.origin}/credentials`);
    const asMetadata = await fetchJson(wellKnownUrl(preAuthorizedServer, 'oauth-authorization-server'));
    assert.equal(asMetadata.issuer, preAuthorizedServer);
    assert.ok(asMetadata.grant_types_supported.includes(PRE_AUTHORIZED_GRANT));
    assert.equal(asMetadata.token_endpoint, `${vc.origin}/credentials/token`);
    const tesseraAs = await fetchJson(wellKnownUrl(identifier, 'oauth-authorization-server'));
    assert.equal(tesseraAs.issuer, identifier);

    // draft-ietf-oauth-sd-jwt-vc §5: the JWT VC issuer metadata of the same identifier, public keys only.
    const jwtVcMetadata = await fetchJson(wellKnownUrl(identifier, 'jwt-vc-issuer'));
    assert.equal(jwtVcMetadata.issuer, identifier);
    assert.ok(jwtVcMetadata.jwks.keys.length > 0);
    for (const key of jwtVcMetadata.jwks.keys) {
      assert.ok(key.kid, 'each key has a kid');
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(member in key), `no ${member} in a published key`);
    }

    // The type metadata each vct names.
    const ageType = await fetchJson(metadata.credential_configurations_supported.age.vct);
    assert.equal(ageType.vct, metadata.credential_configurations_supported.age.vct);
  });

  test("Discovery: @openid4vc/openid4vci accepts Tessera's metadata as it is, every authorization server's RFC 8414 §2 auth methods with their algorithms", async () => {
    const identifier = new URL(vc.origin).href;
    // RFC 8414 §2: *_auth_signing_alg_values_supported "MUST be present if either of these authentication methods
    // [private_key_jwt, client_secret_jwt] are specified" in the matching *_auth_methods_supported.
    const violations = {};
    for (const url of [wellKnownUrl(identifier, 'oauth-authorization-server'), `${vc.origin}/.well-known/openid-configuration`, wellKnownUrl(`${vc.origin}/credentials`, 'oauth-authorization-server')]) {
      const found = rfc8414AuthMethodViolations(await fetchJson(url));
      if (found.length) violations[url] = found;
    }

    const strict = wallet(await holderKey());
    const resolved = await strict.resolveIssuerMetadata(identifier).then(() => 'accepted', (error) => String(error.message ?? error).split('\n').slice(0, 2).join(' '));
    assert.deepEqual({ violations, resolved }, { violations: {}, resolved: 'accepted' });
  });

  test('Pre-authorized code flow: an offer through the Admin API, run end to end by @openid4vc/openid4vci', async () => {
    // Noor signs in once (to the wallet, through the upstream), so Tessera knows her birthdate and group.
    users.noor = await signInToWallet(vc, vc.origin, 'vc-3001', 'openid');
    const offered = await vc.admin('POST', `/users/${users.noor.sub}/credential-offers`, { credential: 'age', tx_code: true });
    assert.equal(offered.status, 201, JSON.stringify(offered.body));
    assert.match(offered.body.credential_offer_uri, /^openid-credential-offer:\/\/\?credential_offer=/);
    assert.match(offered.body.tx_code, /^\d{6}$/);

    const holder = await holderKey();
    const peer = wallet(holder);
    const offer = await peer.resolveCredentialOffer(offered.body.credential_offer_uri);
    assert.deepEqual(offer.credential_configuration_ids, ['age']);
    assert.equal(offer.credential_issuer, new URL(vc.origin).href, 'the offer names the issuer as its metadata does');
    const grant = offer.grants[PRE_AUTHORIZED_GRANT];
    assert.ok(grant['pre-authorized_code']);
    assert.deepEqual({ input_mode: grant.tx_code.input_mode, length: grant.tx_code.length }, { input_mode: 'numeric', length: 6 });

    // The library derives the metadata URL from the offer's credential_issuer and refuses a document naming another.
    const issuerMetadata = await peer.resolveIssuerMetadata(offer.credential_issuer);
    assert.equal(issuerMetadata.credentialIssuer.credential_issuer, offer.credential_issuer);
    const { accessTokenResponse } = await peer.retrievePreAuthorizedCodeAccessTokenFromOffer({
      credentialOffer: offer, issuerMetadata, txCode: offered.body.tx_code,
    });
    assert.equal(accessTokenResponse.token_type, 'Bearer');

    const { c_nonce: nonce } = await peer.requestNonce({ issuerMetadata });
    const { jwt: proof } = await peer.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: 'age', nonce, signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk },
    });
    const proofHeader = jose.decodeProtectedHeader(proof);
    assert.equal(proofHeader.typ, PROOF_TYPE);
    assert.equal(jose.decodeJwt(proof).aud, offer.credential_issuer, 'the library addresses the proof to the credential issuer');

    const { credentialResponse } = await peer.retrieveCredentials({
      issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId: 'age', proofs: { jwt: [proof] },
    });
    assert.equal(credentialResponse.credentials.length, 1);
    issued.noorAge = { credential: credentialResponse.credentials[0].credential, holder, sub: users.noor.sub };

    // The code was single use: the library's second redemption is refused with the token endpoint's error.
    await assert.rejects(
      peer.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer: offer, issuerMetadata, txCode: offered.body.tx_code }),
      (error) => { assert.match(String(error.message ?? error), /invalid_grant/); return true; },
    );
  });

  test('Authorization code flow: the wallet signs in through Tessera and the upstream with credential:age and credential:employee', async () => {
    const metadata = await fetchJson(wellKnownUrl(vc.origin, 'openid-credential-issuer'));
    const scopes = ['age', 'employee'].map((id) => metadata.credential_configurations_supported[id].scope);
    users.olu = await signInToWallet(vc, metadata.authorization_servers[0], 'vc-3002', ['openid', ...scopes].join(' '));
    const granted = (users.olu.tokens.scope ?? '').split(' ');
    for (const scope of scopes) assert.ok(granted.includes(scope), `the token grants ${scope} (scope: ${users.olu.tokens.scope})`);

    const holder = await holderKey();
    const peer = wallet(holder);
    const issuerMetadata = await peer.resolveIssuerMetadata(metadata.credential_issuer);
    for (const id of ['age', 'employee']) {
      const { c_nonce: nonce } = await peer.requestNonce({ issuerMetadata });
      const { jwt: proof } = await peer.createCredentialRequestJwtProof({
        issuerMetadata, credentialConfigurationId: id, nonce, clientId: WALLET, signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk },
      });
      assert.equal(jose.decodeJwt(proof).iss, WALLET, 'the proof names the client the access token was issued to');
      const { credentialResponse } = await peer.retrieveCredentials({
        issuerMetadata, accessToken: users.olu.tokens.access_token, credentialConfigurationId: id, proofs: { jwt: [proof] },
      });
      issued[`olu_${id}`] = { credential: credentialResponse.credentials[0].credential, holder, sub: users.olu.sub };
    }
  });

  test('@sd-jwt/sd-jwt-vc verifies every issued credential with keys it found from iss: typ, vct, signature, disclosures, cnf, status', async () => {
    assert.deepEqual(Object.keys(issued).sort(), ['noorAge', 'olu_age', 'olu_employee'], 'the flows above issued three credentials');
    const expected = {
      noorAge: { vct: `${vc.origin}/credentials/types/age`, ages: { 18: true, 21: true } },
      olu_age: { vct: `${vc.origin}/credentials/types/age`, ages: { 18: true, 21: false } },
      olu_employee: { vct: `${vc.origin}/credentials/types/employee` },
    };
    for (const [name, { credential, holder }] of Object.entries(issued)) {
      assert.ok(credential.endsWith('~'), `${name}: an SD-JWT without key binding ends with ~`);
      const verifier = await strictVerifier(credential);
      const { payload, header } = await verifier.verify(credential);
      assert.equal(header.typ, SD_JWT_VC_TYPE);
      assert.equal(payload.iss, new URL(vc.origin).href, `${name}: iss is the credential issuer identifier`);
      assert.equal(payload.vct, expected[name].vct);
      assert.ok(payload.exp > payload.iat, 'exp after iat');
      assert.deepEqual(payload.cnf, { jwk: { kty: holder.publicJwk.kty, crv: holder.publicJwk.crv, x: holder.publicJwk.x, y: holder.publicJwk.y } }, `${name}: cnf is the holder's key`);
      assert.equal(await jose.calculateJwkThumbprint(payload.cnf.jwk), holder.thumbprint);
      assert.equal(typeof payload.status?.status_list?.idx, 'number');
      assert.equal(verifier.statusLists.length, 1, 'the status list was fetched and verified');
      assert.equal(verifier.statusLists[0].uri, payload.status.status_list.uri);
      assert.ok(!('birthdate' in payload), 'no birthdate in the credential');

      const decoded = await verifier.decode(credential);
      assert.equal(decoded.jwt.payload._sd_alg, 'sha-256');
      const everything = JSON.stringify([decoded.jwt.payload, decoded.disclosures.map((d) => [d.key, d.value])]);
      for (const { birthdate } of Object.values(ACCOUNTS)) assert.ok(!everything.includes(birthdate), `${name}: no birthdate in the JWT or any disclosure`);
      assert.ok(decoded.disclosures.every((d) => d.key !== 'birthdate'), `${name}: no birthdate disclosure`);
      if (expected[name].ages) {
        assert.deepEqual(payload.age_equal_or_over, expected[name].ages);
        // The object and each age are disclosures of their own, so that "21" can be shown without "18".
        assert.equal(disclosuresNamed(decoded, 'age_equal_or_over').length, 1);
        assert.equal(disclosuresNamed(decoded, '18').length, 1, 'age 18 is a disclosure of its own');
        assert.equal(disclosuresNamed(decoded, '21').length, 1, 'age 21 is a disclosure of its own');
        assert.ok(!('age_equal_or_over' in decoded.jwt.payload), 'age_equal_or_over is not in the clear');
      } else {
        assert.equal(payload.org, ORGANIZATION, 'org is in the clear');
        assert.equal(decoded.jwt.payload.org, ORGANIZATION);
        assert.equal(payload.role, 'nurse', "the role comes from the upstream group through St Mary's rule");
        assert.equal(payload.email, ACCOUNTS['vc-3002'].email);
        for (const claim of ['role', 'email']) {
          assert.equal(disclosuresNamed(decoded, claim).length, 1, `${claim} is disclosable`);
          assert.ok(!(claim in decoded.jwt.payload), `${claim} is not in the clear`);
        }
      }
    }

    // The holder presents "over 21" alone, bound to its key; the library verifies the key binding against cnf.
    const { credential, holder } = issued.noorAge;
    const verifier = await strictVerifier(credential);
    const presentation = await verifier.present(credential, { age_equal_or_over: { 21: true } }, holder, { aud: 'https://bar.example', nonce: 'n-0S6_WzA2Mj' });
    const shown = await verifier.verify(presentation, { keyBindingNonce: 'n-0S6_WzA2Mj' });
    assert.deepEqual(shown.payload.age_equal_or_over, { 21: true }, 'only 21 is disclosed');
    assert.equal(shown.kb.payload.aud, 'https://bar.example');

    // A key binding made with another key than cnf's is refused.
    const stranger = await holderKey();
    const forged = await verifier.present(credential, { age_equal_or_over: { 21: true } }, stranger, { aud: 'https://bar.example', nonce: 'n-1' });
    await assert.rejects(verifier.verify(forged, { keyBindingNonce: 'n-1' }));
  });

  test("Presentation: @sd-jwt/sd-jwt-vc as the holder shows 'over 21' alone to Tessera's OpenID4VP verifier; the app's token says age_over_21 and nothing else", async () => {
    const asked = await vc.bar('/presentations/requests', { presentation: 'over-21', redirect_uri: vc.barRedirectUri });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const { credential, holder } = issued.noorAge;
    let shown;
    const answered = await answerPresentation(asked.body.wallet_link, async (binding) => {
      shown = await present(credential, { age_equal_or_over: { 21: true } }, holder, binding);
      return shown;
    });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    const back = new URL(answered.body.redirect_uri);
    assert.equal(`${back.origin}${back.pathname}`, vc.barRedirectUri, 'same-device: back to the app, OpenID4VP §8.2');

    const result = await vc.bar('/presentations/result', { request_id: asked.body.request_id, response_code: back.searchParams.get('response_code') });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    const payload = await verifiedResult(vc, result.body.token);
    assert.equal(payload.age_over_21, true);
    assert.deepEqual(Object.keys(payload).filter((claim) => !RESULT_CLAIMS.has(claim)), [], 'nothing but age_over_21 was learned');
    assert.deepEqual(result.body.claims, { age_over_21: true });
    const again = await vc.bar('/presentations/result', { request_id: asked.body.request_id, response_code: back.searchParams.get('response_code') });
    assert.equal(again.body.error, 'invalid_grant', 'a result is taken once');

    // The same presentation for a new request: its key binding holds the old request's nonce.
    const next = await vc.bar('/presentations/requests', { presentation: 'over-21', redirect_uri: vc.barRedirectUri });
    const replayed = await answerPresentation(next.body.wallet_link, async () => shown);
    assert.equal(replayed.status, 400, JSON.stringify(replayed.body));
    assert.match(replayed.body.error_description, /^key_binding_nonce/);
  });

  test("Exchange: openid-client exchanges @sd-jwt/sd-jwt-vc's 'over 21' presentation, bound to a nonce from Tessera, for an access token jose accepts", async () => {
    const nonce = await vc.bar('/presentations/nonce', { presentation: 'over-21' });
    assert.equal(nonce.status, 200, JSON.stringify(nonce.body));
    assert.equal(nonce.body.aud, BAR, 'the key binding names the app, a pre-registered verifier (OpenID4VP 1.0 §5.9.1)');
    assert.equal(nonce.body.subject_token_type, PRESENTATION_TOKEN_TYPE);
    const { credential, holder } = issued.noorAge;
    const shown = await present(credential, { age_equal_or_over: { 21: true } }, holder, { aud: nonce.body.aud, nonce: nonce.body.nonce });
    const exchange = () => client.genericGrantRequest(vc.barClient, TOKEN_EXCHANGE, { subject_token: shown, subject_token_type: PRESENTATION_TOKEN_TYPE });

    const tokens = await exchange();
    assert.equal(tokens.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    const discovery = await fetchJson(`${vc.origin}/.well-known/openid-configuration`);
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jose.createRemoteJWKSet(new URL(discovery.jwks_uri)), {
      issuer: discovery.issuer, audience: TABS_API, typ: 'at+jwt', algorithms: discovery.id_token_signing_alg_values_supported,
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.age_over_21, true);
    assert.equal(payload.scope, 'verify:age');
    const about = ['iss', 'aud', 'sub', 'iat', 'exp', 'nbf', 'jti', 'scope', 'client_id', 'oi_prst', 'oi_tkn_id']; // the token and the app, as in every access token
    const learned = Object.keys(payload).filter((claim) => !about.includes(claim) && claim !== 'age_over_21');
    assert.deepEqual(learned, [], 'nothing but age_over_21 about the holder');
    assert.notEqual(payload.sub, users.noor?.sub, 'a pairwise holder subject, not the user');

    // The nonce is spent: the same presentation cannot be exchanged twice.
    await assert.rejects(exchange(), (error) => error.error === 'invalid_request' && /nonce/.test(error.error_description));
  });

  test("Presentation: a 19-year-old's 'over 21' (false) does not answer the query, and an issuer nobody configured is not trusted", async () => {
    const asked = await vc.bar('/presentations/requests', { presentation: 'over-21', redirect_uri: vc.barRedirectUri });
    const { credential, holder } = issued.olu_age;
    const answered = await answerPresentation(asked.body.wallet_link, (binding) => present(credential, { age_equal_or_over: { 21: true } }, holder, binding));
    assert.equal(answered.status, 400, JSON.stringify(answered.body));
    assert.match(answered.body.error_description, /^query_not_answered/);

    const stranger = await peerIssuer('https://stranger.example');
    const strangerHolder = await holderKey();
    const forged = await stranger.issue(
      { vct: PEER_VCT, cnf: { jwk: strangerHolder.publicJwk }, exp: Math.floor(Date.now() / 1000) + 3600, age_equal_or_over: { 21: true } },
      { _sd: ['age_equal_or_over'], age_equal_or_over: { _sd: ['21'] } },
    );
    const untrusted = await vc.bar('/presentations/requests', { presentation: 'over-21', redirect_uri: vc.barRedirectUri });
    const refused = await answerPresentation(untrusted.body.wallet_link, (binding) => present(forged, { age_equal_or_over: { 21: true } }, strangerHolder, binding));
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(refused.body.error_description, /^untrusted_issuer/);
  });

  test('Presentation: a credential that @sd-jwt/sd-jwt-vc issued under a configured key is verified by Tessera, cross-device', async () => {
    const holder = await holderKey();
    const credential = await vc.peer.issue(
      { vct: PEER_VCT, cnf: { jwk: holder.publicJwk }, exp: Math.floor(Date.now() / 1000) + 3600, age_equal_or_over: { 18: true, 21: true } },
      { _sd: ['age_equal_or_over'], age_equal_or_over: { _sd: ['18', '21'] } },
    );
    const asked = await vc.bar('/presentations/requests', { presentation: 'over-21' });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const pending = await vc.bar('/presentations/result', { request_id: asked.body.request_id });
    assert.equal(pending.body.error, 'authorization_pending', 'before the wallet answers');
    const answered = await answerPresentation(asked.body.wallet_link, (binding) => present(credential, { age_equal_or_over: { 21: true } }, holder, binding));
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.equal(answered.body.redirect_uri, undefined, 'cross-device: the wallet is not sent anywhere');

    const result = await vc.bar('/presentations/result', { request_id: asked.body.request_id });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    const payload = await verifiedResult(vc, result.body.token);
    assert.equal(payload.age_over_21, true);
    assert.deepEqual(Object.keys(payload).filter((claim) => !RESULT_CLAIMS.has(claim)), []);
  });

  test('Status: a credential revoked through the Admin API, and every credential of a user deactivated over SCIM, become invalid', async () => {
    const { credential: noorAge, sub: noor } = issued.noorAge;
    const verifier = await strictVerifier(noorAge);
    const { payload } = await verifier.verify(noorAge);
    const listed = await vc.admin('GET', `/users/${noor}/credentials`);
    assert.equal(listed.status, 200);
    const record = listed.body.items.find((item) => item.status_index === payload.status.status_list.idx);
    assert.ok(record, 'the Admin API lists the credential under its status index');
    assert.equal(record.holder_key_thumbprint, issued.noorAge.holder.thumbprint, 'by the RFC 7638 thumbprint of the holder key');
    assert.equal(record.revoked_at, null);

    const revoked = await vc.admin('POST', `/credentials/${record.id}/revoke`);
    assert.ok(revoked.status >= 200 && revoked.status < 300, `revoke answered ${revoked.status}`);
    await assert.rejects(strictVerifier(noorAge).then((v) => v.verify(noorAge)), /Status is not valid/);

    // Another user: Pia signs in, receives the age credential, verifies, and is deactivated over SCIM.
    users.pia = await signInToWallet(vc, vc.origin, 'vc-3003', 'openid credential:age');
    const holder = await holderKey();
    const peer = wallet(holder);
    const issuerMetadata = await peer.resolveIssuerMetadata(new URL(vc.origin).href);
    const { c_nonce: nonce } = await peer.requestNonce({ issuerMetadata });
    const { jwt: proof } = await peer.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: 'age', nonce, clientId: WALLET, signer: { method: 'jwk', alg: 'ES256', publicJwk: holder.publicJwk },
    });
    const { credentialResponse } = await peer.retrieveCredentials({
      issuerMetadata, accessToken: users.pia.tokens.access_token, credentialConfigurationId: 'age', proofs: { jwt: [proof] },
    });
    const piaAge = credentialResponse.credentials[0].credential;
    await (await strictVerifier(piaAge)).verify(piaAge);

    // Olu's credentials stay valid throughout: revocation is per credential and per user.
    await (await strictVerifier(issued.olu_age.credential)).verify(issued.olu_age.credential);

    const created = await vc.scim.send('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: ACCOUNTS['vc-3003'].email, active: true,
      emails: [{ value: ACCOUNTS['vc-3003'].email, primary: true }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.id, users.pia.sub, 'the SCIM user is the one who signed in');
    const deactivated = await vc.scim.send('PATCH', `/Users/${users.pia.sub}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    assert.equal(deactivated.status, 200);
    await assert.rejects(strictVerifier(piaAge).then((v) => v.verify(piaAge)), /Status is not valid/);
    await (await strictVerifier(issued.olu_age.credential)).verify(issued.olu_age.credential);
  });

  /** Noor's wallet with an access token for credential:age, and a credential request that must be refused. */
  async function refusals() {
    const metadata = await fetchJson(wellKnownUrl(vc.origin, 'openid-credential-issuer'));
    const { tokens } = await signInToWallet(vc, metadata.authorization_servers[0], 'vc-3001', 'openid credential:age');
    const request = (proof) => credentialRequest(metadata, tokens.access_token, { credential_configuration_id: 'age', proofs: { jwt: [proof] } });
    const refusedWith = async (proof, error, why) => {
      const response = await request(proof);
      assert.equal(response.status, 400, `${why}: status ${response.status} ${JSON.stringify(response.body)}`);
      assert.equal(response.body?.error, error, `${why}: ${JSON.stringify(response.body)}`);
      assert.ok(!('credentials' in response.body) && !('credential' in response.body), `${why}: no credential`);
    };
    return { metadata, tokens, holder: await holderKey(), request, refusedWith };
  }

  test("Presentation: the revoked credential is refused by Tessera's verifier with 'revoked'", async () => {
    const asked = await vc.bar('/presentations/requests', { presentation: 'over-21', redirect_uri: vc.barRedirectUri });
    const { credential, holder } = issued.noorAge;
    const answered = await answerPresentation(asked.body.wallet_link, (binding) => present(credential, { age_equal_or_over: { 21: true } }, holder, binding));
    assert.equal(answered.status, 400, JSON.stringify(answered.body));
    assert.match(answered.body.error_description, /^revoked/);
  });

  test('Refusals: proofs with a wrong or spent nonce, another audience, a stale iat or another typ get OpenID4VCI errors and no credential', async () => {
    const { metadata, tokens, holder, request, refusedWith } = await refusals();

    await refusedWith(await handmadeProof(holder, { aud: metadata.credential_issuer, nonce: randomBytes(16).toString('base64url') }), 'invalid_nonce', 'a nonce Tessera never gave');
    await refusedWith(await handmadeProof(holder, { aud: 'https://another-issuer.example/', nonce: await freshNonce(metadata) }), 'invalid_proof', 'aud of another issuer');
    await refusedWith(await handmadeProof(holder, { aud: metadata.credential_issuer, nonce: await freshNonce(metadata), iat: Math.floor(Date.now() / 1000) - 3600 }), 'invalid_proof', 'an iat an hour old');
    await refusedWith(await handmadeProof(holder, { aud: metadata.credential_issuer, nonce: await freshNonce(metadata), typ: 'JWT' }), 'invalid_proof', 'typ JWT');


    // The right proof works once; its nonce, spent, is refused the second time.
    const nonce = await freshNonce(metadata);
    const good = await handmadeProof(holder, { aud: metadata.credential_issuer, nonce });
    const first = await request(good);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.credentials.length, 1);
    await refusedWith(await handmadeProof(holder, { aud: metadata.credential_issuer, nonce }), 'invalid_nonce', 'a spent nonce');

    // No bearer token, and a configuration the token does not cover: RFC 6750 and OpenID4VCI errors.
    const anonymous = await credentialRequest(metadata, 'not-a-token', { credential_configuration_id: 'age', proofs: { jwt: [good] } });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.wwwAuthenticate ?? '', /^Bearer\b.*invalid_token/);
    const outOfScope = await credentialRequest(metadata, tokens.access_token, { credential_configuration_id: 'employee', proofs: { jwt: [await handmadeProof(holder, { aud: metadata.credential_issuer, nonce: await freshNonce(metadata) })] } });
    assert.equal(outOfScope.status, 403);
    assert.equal(outOfScope.body.error, 'insufficient_scope');
    const unknown = await credentialRequest(metadata, tokens.access_token, { credential_configuration_id: 'passport', proofs: { jwt: [good] } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'unknown_credential_configuration');
  });

  test("Refusals: a proof whose aud is the issuer spelled otherwise than the metadata's credential_issuer gets invalid_proof", async () => {
    // OpenID4VCI 1.0 Appendix F.1: aud MUST be the Credential Issuer Identifier, a string compared as it is (§12.2.1:
    // a case-sensitive URL); docs/credentials.md promises the same ("spelled exactly so").
    const { metadata, holder, refusedWith } = await refusals();
    const otherSpelling = metadata.credential_issuer.endsWith('/') ? metadata.credential_issuer.slice(0, -1) : `${metadata.credential_issuer}/`;
    await refusedWith(await handmadeProof(holder, { aud: otherSpelling, nonce: await freshNonce(metadata) }), 'invalid_proof', `aud spelled ${otherSpelling}, not ${metadata.credential_issuer}`);
  });
});
