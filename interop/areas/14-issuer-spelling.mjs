// Strict peers compare `iss` with discovery's `issuer` character for character. For an Issuer configured without a
// trailing slash, with one, and with a path, this area runs a Tessera of its own (and an upstream oidc-provider for
// it), signs a user in with openid-client, deprovisions the user over SCIM, and has jose verify everything Tessera
// signed against the keys and the issuer that discovery names: ID and access tokens, the logout token the
// application received and the Security Event Tokens the receiver received.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import * as client from 'openid-client';
import { startBackchannelEndpoint, startSetReceiver } from '../lib/backchannel.mjs';
import { Browser } from '../lib/browser.mjs';
import { signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, CONNECTION, environment, freePorts, generatedSecret, ORGANIZATION, serve } from '../lib/harness.mjs';
import { scimClient } from '../lib/scim-fixtures.mjs';
import { startUpstream } from '../lib/upstream.mjs';

const ACCOUNT = 'stm-1001';
const EMAIL = 'alice@stmarys.example';
const APP = 'issuer-app';
const SERVICE = 'issuer-service';
const RECEIVER_AUDIENCE = 'https://siem.example';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const ACCOUNT_DISABLED = 'https://schemas.openid.net/secevent/risc/event-type/account-disabled';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const SPELLINGS = [
  { name: 'an origin without the trailing slash', issuer: (origin) => origin },
  { name: 'an origin with the trailing slash', issuer: (origin) => `${origin}/` },
  { name: 'a path', issuer: (origin) => `${origin}/tenant-a` },
];

/** A Tessera with Issuer `issuer` on `origin`, its own upstream IdP, one app, one service, and a SET receiver. */
async function launch(env, spelling, index, cleanups) {
  const [port, upstreamPort] = await freePorts(2);
  const origin = `http://127.0.0.1:${port}`;
  const issuer = spelling.issuer(origin);
  const base = issuer.replace(/\/$/, '');
  const upstreamSecret = generatedSecret();
  const upstream = await startUpstream({ port: upstreamPort, clientSecret: upstreamSecret, redirectUri: `${base}/oidc/${CONNECTION}/callback` });
  cleanups.push(() => upstream.close());
  const backchannel = await startBackchannelEndpoint();
  cleanups.push(() => backchannel.close());
  const receiverAuthorization = `Bearer ${generatedSecret()}`;
  const receiver = await startSetReceiver(receiverAuthorization);
  cleanups.push(() => receiver.close());

  const app = { redirectUri: `http://127.0.0.1:${(await freePorts(1))[0]}/cb` };
  const secrets = { service: generatedSecret(), scim: generatedSecret() };
  const configFile = join(env.dir, `issuer-${index}.json`);
  await writeFile(configFile, JSON.stringify({
    Tessera: {
      Issuer: issuer,
      Storage: { Provider: 'Sqlite', ConnectionString: `Data Source=${join(env.dir, `issuer-${index}.db`)}` },
      Keys: { EncryptionKey: 'env:TESSERA_KEK' },
      Network: { AllowPrivateUpstreams: true }, // its upstream IdP listens on 127.0.0.1
      Clients: [
        {
          ClientId: APP, Type: 'public', RedirectUris: [app.redirectUri], GrantTypes: ['authorization_code'],
          Scopes: ['openid', 'email', 'read:reports'], Audiences: ['https://reports.example'], BackchannelLogoutUri: backchannel.url,
        },
        { ClientId: SERVICE, Type: 'confidential', ClientSecret: 'env:SERVICE_SECRET', GrantTypes: ['client_credentials'], Scopes: ['write:orders'], Audiences: ['https://orders.internal'] },
      ],
      Signals: { Receivers: [{ Id: 'siem', Endpoint: receiver.url, Authorization: 'env:RECEIVER_AUTH', Audience: RECEIVER_AUDIENCE }] },
      Organizations: [{
        Id: ORGANIZATION, Domains: ['stmarys.example'],
        Connections: [{ Id: CONNECTION, Protocol: 'oidc', Authority: upstream.issuer, ClientId: 'tessera', ClientSecret: 'env:UPSTREAM_SECRET' }],
        Scim: { Tokens: ['env:SCIM_TOKEN'] },
      }],
    },
  }, null, 2));
  const tessera = await serve({
    args: [env.dll, 'serve', '--config', configFile, '--urls', origin],
    url: base, // /healthz under the issuer: a path issuer serves everything under its path
    log: join(env.dir, `issuer-${index}.log`),
    env: {
      TESSERA_KEK: randomBytes(32).toString('base64'),
      SERVICE_SECRET: secrets.service,
      RECEIVER_AUTH: receiverAuthorization,
      UPSTREAM_SECRET: upstreamSecret,
      SCIM_TOKEN: secrets.scim,
    },
  });
  cleanups.push(() => tessera.kill());
  return { issuer, base, app, secrets, backchannel, receiver };
}

async function verified(token, jwks, issuer, options) {
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, { issuer, algorithms: ['ES256', 'RS256'], ...options });
  return { payload, protectedHeader };
}

export default () => describe('14. One issuer spelling (jose verifies tokens, logout tokens and SETs against discovery)', { timeout: AREA_TIMEOUT_MS * 4 }, () => {
  SPELLINGS.forEach((spelling, index) => {
    test(`Issuer configured as ${spelling.name}`, async () => {
      const env = environment();
      const cleanups = [];
      try {
        const tessera = await launch(env, spelling, index, cleanups);

        // openid-client refuses a discovery document whose issuer is not the one it was asked for (RFC 8414 §3.3).
        const app = await client.discovery(new URL(tessera.issuer), APP, undefined, client.None(), { execute: [client.allowInsecureRequests] });
        const metadata = app.serverMetadata();
        assert.equal(metadata.issuer, new URL(tessera.issuer).href);
        for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'end_session_endpoint', 'introspection_endpoint']) {
          assert.ok(metadata[endpoint].startsWith(`${tessera.base}/`), `${endpoint} ${metadata[endpoint]} is under ${tessera.base}`);
        }

        const jwks = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
        const ssf = await (await fetch(`${tessera.base}/.well-known/ssf-configuration`)).json();
        assert.equal(ssf.issuer, metadata.issuer, 'SSF metadata names the same issuer');
        assert.equal(ssf.jwks_uri, metadata.jwks_uri);

        const service = await client.discovery(new URL(tessera.issuer), SERVICE, undefined, client.ClientSecretBasic(tessera.secrets.service), { execute: [client.allowInsecureRequests] });
        const granted = await client.clientCredentialsGrant(service, { scope: 'write:orders' });
        await verified(granted.access_token, jwks, metadata.issuer, { typ: 'at+jwt', audience: 'https://orders.internal' });

        const browser = new Browser({ stopAt: [tessera.app.redirectUri] });
        const { tokens } = await signIn(browser, app, { redirectUri: tessera.app.redirectUri, scope: 'openid email read:reports', account: ACCOUNT, parameters: { login_hint: EMAIL } });
        const { sub, sid } = tokens.claims(); // openid-client checked the ID token's iss against discovery already
        await verified(tokens.id_token, jwks, metadata.issuer, { audience: APP });
        await verified(tokens.access_token, jwks, metadata.issuer, { typ: 'at+jwt', audience: 'https://reports.example' });

        const scim = scimClient({ baseUrl: `${tessera.base}/scim/v2/${ORGANIZATION}`, token: tessera.secrets.scim });
        const created = await scim.send('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: EMAIL, active: true, emails: [{ value: EMAIL, primary: true }] });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        assert.equal(created.json.id, sub, 'the signed-in user is the one provisioned');
        const deactivated = await scim.send('PATCH', `/Users/${sub}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }],
        });
        assert.equal(deactivated.status, 200);

        const [logout] = await tessera.backchannel.waitFor(1);
        const { payload: logoutClaims } = await verified(logout.logoutToken, jwks, metadata.issuer, { audience: APP, typ: 'logout+jwt' });
        assert.equal(logoutClaims.sid, sid);
        assert.deepEqual(logoutClaims.events, { [LOGOUT_EVENT]: {} });

        const pushed = await tessera.receiver.waitFor(2);
        const events = [];
        for (const received of pushed) {
          assert.ok(received.authorized, 'Tessera sent the configured Authorization');
          assert.match(received.contentType, /^application\/secevent\+jwt/);
          const { payload } = await verified(received.set, jwks, metadata.issuer, { audience: RECEIVER_AUDIENCE, typ: 'secevent+jwt' });
          assert.deepEqual(payload.sub_id.user, { format: 'iss_sub', iss: metadata.issuer, sub });
          events.push(...Object.keys(payload.events));
        }

        assert.deepEqual(events.sort(), [ACCOUNT_DISABLED, SESSION_REVOKED].sort());
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup();
      }
    });
  });
});
