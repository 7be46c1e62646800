import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import { startSetReceiver } from '../lib/backchannel.mjs';
import { authorize, signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, generatedSecret, ORDERS_SCOPE } from '../lib/harness.mjs';

/** Addresses DB-IP City Lite places: London, another London network, and Google's in Mountain View. */
const LONDON = '81.2.69.142';
const LONDON_AGAIN = '212.58.244.1';
const MOUNTAIN_VIEW = '8.8.8.8';

const ORGANIZATION = 'st-anns';
const CONNECTION = 'stanns-oidc';
const RISK_EVENT = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export default () => describe('17. Anomalies: two countries within ten minutes, placed by the real DB-IP City Lite file through a trusted proxy', { timeout: AREA_TIMEOUT_MS * 2 }, () => {
  test("a sign-in from Mountain View minutes after one from London is refused, the London session ends, and the app and a receiver hear of it within 2 s", async () => {
    const env = environment();
    const authorization = `Bearer ${generatedSecret()}`;
    const receiver = await startSetReceiver(authorization);
    try {
      // St Ann's, onboarded at runtime: its rule (the platform's choice), its IdP connection, and its SIEM as a receiver.
      const created = await env.admin('POST', 'organizations', {
        Id: ORGANIZATION, DisplayName: "St Ann's", Domains: ['stanns.example'],
        Anomaly: { Rules: [{ Rule: 'TwoCountries', Window: '00:10:00', Action: 'revoke' }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const upstreamClient = { clientId: 'tessera-stanns', clientSecret: generatedSecret() };
      await env.upstream.registerClient({ ...upstreamClient, redirectUris: [`${env.tesseraUrl}/oidc/${CONNECTION}/callback`] });
      assert.equal((await env.admin('POST', `organizations/${ORGANIZATION}/connections`, {
        Id: CONNECTION, Protocol: 'oidc', Authority: env.upstream.issuer, ClientId: upstreamClient.clientId, ClientSecret: upstreamClient.clientSecret,
      })).status, 201);
      const siem = await env.admin('POST', 'signal-receivers', {
        Id: 'stanns-siem', Endpoint: receiver.url, Authorization: authorization, Organizations: [ORGANIZATION],
      });
      assert.equal(siem.status, 201, JSON.stringify(siem.body));

      const till = await env.client(env.app.till.id);
      const { issuer, jwks_uri: jwksUri } = till.serverMetadata();
      const jwks = jose.createRemoteJWKSet(new URL(jwksUri));
      const parameters = { connection: CONNECTION };

      // Carol signs in to the till from London...
      const home = await signIn(env.browser({ forwardedFor: LONDON }), till, { redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: 'stm-1003', parameters });
      const { sub, sid, org } = home.tokens.claims();
      assert.equal(org, ORGANIZATION);
      const logoutsBefore = env.backchannel.till.received.length;

      // ...and, minutes later, someone signs in as her from Mountain View.
      await assert.rejects(
        authorize(env.browser({ forwardedFor: MOUNTAIN_VIEW }), till, { redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: 'stm-1003', parameters }),
        /sign_in_blocked/, 'the second sign-in ends on the refusal page');
      const refused = performance.now();

      // The till hears the London session end, and the SIEM the revocation and the risk, within 2 s.
      await env.backchannel.till.waitFor(logoutsBefore + 1, 2_000);
      const logout = env.backchannel.till.received.at(-1);
      const { payload: logoutClaims } = await jose.jwtVerify(logout.logoutToken, jwks, { issuer, audience: env.app.till.id, typ: 'logout+jwt' });
      assert.deepEqual([logoutClaims.sub, logoutClaims.sid], [sub, sid]);
      assert.ok(LOGOUT_EVENT in logoutClaims.events);
      assert.ok(logout.at - refused < 2_000, `the logout token arrived ${Math.round(logout.at - refused)} ms after the refusal`);
      await receiver.waitFor(2, 2_000);
      const events = {};
      for (const arrived of receiver.received) {
        assert.ok(arrived.authorized);
        const { payload } = await jose.jwtVerify(arrived.set, jwks, { issuer, audience: 'stanns-siem', typ: 'secevent+jwt' });
        Object.assign(events, payload.events);
        assert.equal(payload.sub_id.user.sub, sub);
        assert.ok(arrived.at - refused < 2_000, `a SET arrived ${Math.round(arrived.at - refused)} ms after the refusal`);
      }

      assert.equal(events[SESSION_REVOKED]?.initiating_entity, 'policy');
      assert.equal(events[RISK_EVENT]?.current_level, 'HIGH');
      assert.match(events[RISK_EVENT]?.risk_reason ?? '', /TwoCountries/);

      // The audit row names both countries, the distance and the speed.
      const audit = await env.admin('GET', `audit?event=anomaly.detected&organization=${ORGANIZATION}`);
      assert.equal(audit.status, 200);
      const row = audit.body.items.at(-1);
      assert.equal(row.user, sub);
      assert.equal(row.ip_address, MOUNTAIN_VIEW);
      assert.deepEqual([row.detail.previous_country, row.detail.country, row.detail.previous_address], ['GB', 'US', LONDON]);
      assert.equal(row.detail.city, 'Mountain View');
      assert.ok(Number(row.detail.distance_km) > 8_000, row.detail.distance_km);
      assert.ok(Number(row.detail.speed_kmh) > 10_000, row.detail.speed_kmh);
      assert.equal(row.detail.action, 'revoke');
    } finally {
      await receiver.close();
    }
  });

  test('the same person signing in twice from London raises nothing', async () => {
    const env = environment();
    const till = await env.client(env.app.till.id);
    const before = (await env.admin('GET', `audit?event=anomaly.detected&organization=${ORGANIZATION}`)).body.items.length;
    for (const address of [LONDON, LONDON_AGAIN]) {
      const signedIn = await signIn(env.browser({ forwardedFor: address }), till, {
        redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: 'stm-1004', parameters: { connection: CONNECTION },
      });
      assert.equal(signedIn.tokens.claims().org, ORGANIZATION);
    }

    assert.equal((await env.admin('GET', `audit?event=anomaly.detected&organization=${ORGANIZATION}`)).body.items.length, before);
  });
});
