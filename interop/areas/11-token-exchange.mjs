import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { audiences, verifyAccessToken } from '../lib/access-tokens.mjs';
import { oauthError } from '../lib/flows.mjs';
import {
  AREA_TIMEOUT_MS, environment, GATEWAY, ORDERS_AUDIENCE, ORGANIZATION, PARTNER_AUDIENCE, PARTNER_KEY_REFRESH_SECONDS, REPORTS_AUDIENCE,
} from '../lib/harness.mjs';
import { PARTNER_RESOURCES } from '../lib/partner-sts.mjs';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PORTAL_USER = 'partner-user-42';
const OTHER_PORTAL_USER = 'partner-user-77';
const BURST = 20;

/** The gateway's exchange of a portal token (or any subject token) with openid-client's generic grant request. */
function exchange(gateway, subjectToken, parameters = {}) {
  return client.genericGrantRequest(gateway, TOKEN_EXCHANGE, {
    subject_token: subjectToken,
    subject_token_type: JWT,
    ...parameters,
  });
}

/** The portal's token, checked locally against the key it signs with now (no HTTP, so the JWKS counter stays Tessera's). */
async function portalToken(partner, options) {
  const token = await partner.mint(options);
  const { payload } = await jwtVerify(token, createLocalJWKSet(partner.publicJwks()), { issuer: partner.issuer, typ: 'at+jwt' });
  return { token, payload };
}

/** RFC 8693 §2.2.1 response fields and the RFC 9068 token inside, verified by jose against Tessera's JWKS. */
async function verifyExchanged(gateway, tokens, { subject, scope }) {
  assert.equal(tokens.issued_token_type, ACCESS_TOKEN);
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.refresh_token, undefined, 'an exchange issues no refresh token');
  assert.equal(tokens.scope, scope);
  // The policy allows 15 minutes; the subject token's remaining life is shorter, and the result may not outlive it.
  const remaining = subject.exp - Math.floor(Date.now() / 1000);
  assert.ok(tokens.expires_in > 0 && tokens.expires_in <= 900, `expires_in ${tokens.expires_in}`);
  assert.ok(tokens.expires_in <= remaining + 1, `expires_in ${tokens.expires_in} outlives the subject token (${remaining} s left)`);

  const { payload, protectedHeader } = await verifyAccessToken(gateway, tokens.access_token, { audience: ORDERS_AUDIENCE });
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.iss, gateway.serverMetadata().issuer);
  assert.deepEqual(audiences(payload), [ORDERS_AUDIENCE]);
  assert.equal(payload.scope, scope);
  assert.equal(payload.client_id, GATEWAY);
  assert.equal(payload.org, ORGANIZATION);
  assert.match(payload.sub, UUID, 'the subject is the internal user, not the portal user id');
  assert.ok(payload.exp <= subject.exp, `exp ${payload.exp} is after the subject token's ${subject.exp}`);
  return payload;
}

/** Resolves at `time` (ms since the epoch). */
function until(time) {
  return new Promise((resolve) => { setTimeout(resolve, Math.max(0, time - Date.now())); });
}

export default () => describe('11. RFC 8693 token exchange: oidc-provider as a foreign STS, openid-client exchanges, jose verifies', { timeout: AREA_TIMEOUT_MS }, () => {
  const seen = {};

  test("a portal JWT for ext_user_id becomes an orders.internal access token for an internal user (impersonation, discovery for the portal's keys)", async () => {
    const env = environment();
    const { partner } = env;
    const gateway = await env.client(GATEWAY);
    const { token, payload: subject } = await portalToken(partner, { user: PORTAL_USER });
    // What oidc-provider minted: an RFC 9068 JWT for Tessera, naming the portal user in ext_user_id.
    assert.equal(subject.aud, PARTNER_AUDIENCE);
    assert.equal(subject.ext_user_id, PORTAL_USER);

    const tokens = await exchange(gateway, token, { scope: 'write:orders read:orders', resource: ORDERS_AUDIENCE });
    const payload = await verifyExchanged(gateway, tokens, { subject, scope: 'write:orders read:orders' });
    assert.equal(payload.act, undefined, 'no actor token: impersonation, no act');

    // The first exchange from the portal: Tessera read its discovery document for jwks_uri, then its keys, once each.
    assert.equal(partner.counts.discovery, 1, 'discovery document requests');
    assert.equal(partner.counts.jwks, 1, 'JWKS requests');
    assert.deepEqual(partner.errors, []);
    seen.user = payload.sub;
    seen.impersonated = tokens.access_token;
  });

  test('the same ext_user_id is the same user every time, another is another; either token type and either target parameter', async () => {
    const env = environment();
    const { partner } = env;
    const gateway = await env.client(GATEWAY);
    const before = { ...partner.counts };

    // A foreign JWT access token may be named as what it is; audience instead of resource; no scope: the policy's.
    const again = await portalToken(partner, { user: PORTAL_USER });
    const second = await exchange(gateway, again.token, { subject_token_type: ACCESS_TOKEN, audience: ORDERS_AUDIENCE });
    const payload = await verifyExchanged(gateway, second, { subject: again.payload, scope: 'write:orders read:orders' });
    assert.equal(payload.sub, seen.user, `${PORTAL_USER} maps to the user the first exchange created`);

    // Neither resource nor audience: the policy's single audience.
    const other = await portalToken(partner, { user: OTHER_PORTAL_USER });
    const third = await exchange(gateway, other.token, { scope: 'read:orders' });
    const otherPayload = await verifyExchanged(gateway, third, { subject: other.payload, scope: 'read:orders' });
    assert.notEqual(otherPayload.sub, seen.user, 'another portal user is another internal user');

    assert.deepEqual(partner.counts, before, "known kid: no further request for the portal's discovery document or keys");
  });

  test("with the gateway's own access token as actor_token the result names it in act (delegation)", async () => {
    const env = environment();
    const gateway = await env.client(GATEWAY);
    const actor = await client.clientCredentialsGrant(gateway, { scope: 'write:orders' });
    const { token, payload: subject } = await portalToken(env.partner, { user: PORTAL_USER });

    const tokens = await exchange(gateway, token, { scope: 'write:orders', actor_token: actor.access_token, actor_token_type: ACCESS_TOKEN });
    const payload = await verifyExchanged(gateway, tokens, { subject, scope: 'write:orders' });
    assert.equal(payload.sub, seen.user);
    // RFC 8693 §4.1: the acting party, by its subject and issuer (Tessera, which issued the actor token).
    assert.deepEqual(payload.act, { sub: GATEWAY, iss: gateway.serverMetadata().issuer });
  });

  test("Tessera's own exchanged token can be exchanged again (subject issuer 'tessera'), narrowing scope, as a delegate", async () => {
    const env = environment();
    const gateway = await env.client(GATEWAY);
    const actor = await client.clientCredentialsGrant(gateway, { scope: 'write:orders' });
    const { payload: subject } = await verifyAccessToken(gateway, seen.impersonated, { audience: ORDERS_AUDIENCE });

    const tokens = await exchange(gateway, seen.impersonated, {
      subject_token_type: ACCESS_TOKEN, scope: 'read:orders', actor_token: actor.access_token, actor_token_type: ACCESS_TOKEN,
    });
    const payload = await verifyExchanged(gateway, tokens, { subject, scope: 'read:orders' });
    assert.equal(payload.sub, seen.user);
    assert.deepEqual(payload.act, { sub: GATEWAY, iss: gateway.serverMetadata().issuer });
  });

  test('requested_token_type jwt yields a plain JWT (typ JWT) with the same claims', async () => {
    const env = environment();
    const gateway = await env.client(GATEWAY);
    const { token, payload: subject } = await portalToken(env.partner, { user: PORTAL_USER });

    const tokens = await exchange(gateway, token, { scope: 'read:orders', requested_token_type: JWT });
    assert.equal(tokens.issued_token_type, JWT);
    assert.equal(tokens.token_type.toLowerCase(), 'n_a', 'RFC 8693 §2.2.1: the issued token is not an access token');
    assert.equal(tokens.scope, 'read:orders');
    // The JWKS at the well-known address that discovery names, fetched by jose like any resource server would.
    const jwks = createRemoteJWKSet(new URL(`${env.tesseraUrl}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: gateway.serverMetadata().issuer, audience: ORDERS_AUDIENCE, typ: 'JWT', algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(payload.sub, seen.user);
    assert.equal(payload.scope, 'read:orders');
    assert.equal(payload.client_id, GATEWAY);
    assert.ok(payload.jti, 'a jti, like the access token it stands in for');
    assert.ok(payload.exp <= subject.exp);
  });

  test('refusals: a portal token for another audience, a scope or audience beyond the policy, a token that is no JWT', async () => {
    const env = environment();
    const { partner } = env;
    const gateway = await env.client(GATEWAY);
    const before = { ...partner.counts };

    // Correctly signed by the portal, but meant for another service: RFC 8693 §2.2.2 invalid_request.
    const elsewhere = await portalToken(partner, { user: PORTAL_USER, resource: PARTNER_RESOURCES[1] });
    assert.equal(elsewhere.payload.aud, PARTNER_RESOURCES[1]);
    await assert.rejects(exchange(gateway, elsewhere.token, { scope: 'read:orders' }), oauthError('invalid_request'));

    const { token } = await portalToken(partner, { user: PORTAL_USER });
    await assert.rejects(exchange(gateway, token, { scope: 'read:reports' }), oauthError('invalid_scope'));
    await assert.rejects(exchange(gateway, token, { resource: REPORTS_AUDIENCE }), oauthError('invalid_target'));
    await assert.rejects(exchange(gateway, 'not-a-jwt'), oauthError('invalid_request'));

    // Another client of Tessera with no exchange policy is refused before any token is looked at.
    await assert.rejects(
      client.genericGrantRequest(await env.client('orders-service'), TOKEN_EXCHANGE, { subject_token: token, subject_token_type: JWT }),
      oauthError('unauthorized_client'),
    );

    assert.deepEqual(partner.counts, before, 'refusals with a known kid fetch nothing from the portal');
  });

  test('key rotation at the portal: an unknown kid refreshes its keys at most once per interval, with one fetch for a burst', async (t) => {
    const env = environment();
    const { partner } = env;
    const gateway = await env.client(GATEWAY);
    const interval = PARTNER_KEY_REFRESH_SECONDS * 1000;
    const old = await portalToken(partner, { user: PORTAL_USER }); // valid for minutes yet, but its key is about to go
    const oldKid = decodeProtectedHeader(old.token).kid;

    // The portal signs with a new key and publishes only that one. Tessera fetched the portal's keys moments ago
    // (the first exchange of this area), so within the refresh interval the new kid is refused without a fetch.
    const newKid = partner.rotate();
    assert.notEqual(newKid, oldKid);
    const early = await portalToken(partner, { user: PORTAL_USER });
    assert.equal(decodeProtectedHeader(early.token).kid, newKid);
    const fetchedBefore = partner.counts.jwks;
    const refused = await exchange(gateway, early.token, { scope: 'write:orders' }).catch((error) => error);
    assert.ok(Date.now() < partner.counts.jwksAt + interval, 'the check above ran within the refresh interval');
    assert.ok(oauthError('invalid_request')(refused));
    assert.equal(partner.counts.jwks, fetchedBefore, 'no JWKS request within the refresh interval');
    t.diagnostic(`new kid within the interval: ${refused.error}: ${refused.error_description}`);

    // Once the interval has passed, a burst of concurrent exchanges with new-kid tokens (the refused one among them)
    // costs the portal exactly one JWKS request: Tessera refreshes once and every request waits for that one fetch.
    await until(partner.counts.jwksAt + interval + 500);
    const minted = [early, ...await Promise.all(Array.from({ length: BURST - 1 }, () => portalToken(partner, { user: PORTAL_USER })))];
    assert.ok(minted.every(({ token }) => decodeProtectedHeader(token).kid === newKid), 'the portal signs with the new key');
    const before = partner.counts.jwks;
    const results = await Promise.allSettled(minted.map(({ token }) => exchange(gateway, token, { scope: 'write:orders' })));
    const failures = results.filter((r) => r.status === 'rejected').map((r) => `${r.reason.error ?? ''} ${r.reason.error_description ?? r.reason.message}`);
    assert.deepEqual(failures, [], `${failures.length} of ${BURST} exchanges after the rotation failed`);
    t.diagnostic(`JWKS requests: ${before} before the burst of ${BURST} concurrent exchanges, ${partner.counts.jwks} after; discovery requests: ${partner.counts.discovery}`);
    assert.equal(partner.counts.jwks - before, 1, `JWKS requests for ${BURST} concurrent exchanges with a new kid`);
    for (const [index, result] of results.entries()) {
      const payload = await verifyExchanged(gateway, result.value, { subject: minted[index].payload, scope: 'write:orders' });
      assert.equal(payload.sub, seen.user, 'the same portal user is the same internal user under the new key');
    }

    // The refresh replaced the key set: the old key is gone, and asking again within the interval fetches nothing.
    const afterBurst = partner.counts.jwks;
    const stale = await exchange(gateway, old.token, { scope: 'write:orders' }).catch((error) => error);
    assert.ok(Date.now() < partner.counts.jwksAt + interval, 'the check above ran within the refresh interval');
    assert.ok(oauthError('invalid_request')(stale));
    assert.equal(partner.counts.jwks, afterBurst, 'no JWKS request for the old kid within the refresh interval');
    t.diagnostic(`old kid after the rotation: ${stale.error}: ${stale.error_description}`);

    assert.equal(partner.counts.discovery, 1, "the portal's discovery document was read once in the whole area");
    assert.deepEqual(partner.errors, []);
  });
});
