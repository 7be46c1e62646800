import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { audiences, verifyAccessToken } from '../lib/access-tokens.mjs';
import { oauthError } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, ORDERS_AUDIENCE } from '../lib/harness.mjs';

export default () => describe('2. client_credentials (openid-client clientCredentialsGrant, jose jwtVerify)', { timeout: AREA_TIMEOUT_MS }, () => {
  test('orders-service gets an RFC 9068 access token for https://orders.internal that jose verifies', async () => {
    const env = environment();
    const config = await env.client('orders-service');
    const tokens = await client.clientCredentialsGrant(config, { scope: 'write:orders' });

    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.expires_in > 0);
    assert.equal(tokens.refresh_token, undefined, 'no refresh token for client_credentials');

    const { payload, protectedHeader } = await verifyAccessToken(config, tokens.access_token, { audience: ORDERS_AUDIENCE });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'ES256');
    assert.deepEqual(audiences(payload), [ORDERS_AUDIENCE]);
    assert.equal(payload.scope, 'write:orders');
    assert.equal(payload.client_id, 'orders-service');
    assert.equal(payload.sub, 'orders-service', 'RFC 9068 §2.2: without a resource owner, sub names the client');
    assert.equal(payload.iss, config.serverMetadata().issuer);
    assert.equal(payload.org, undefined, 'no organization: no user is involved');
  });

  test('a scope outside the client registration is refused with invalid_scope', async () => {
    const config = await environment().client('orders-service');
    await assert.rejects(
      client.clientCredentialsGrant(config, { scope: 'read:reports' }),
      oauthError('invalid_scope'),
    );
  });

  test('an oversized form answers 413 with OAuth error JSON at every back-channel endpoint, over plain HTTP', async () => {
    const metadata = (await environment().client('orders-service')).serverMetadata();
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'x'.repeat(100_000) });
    for (const endpoint of [metadata.token_endpoint, metadata.introspection_endpoint, metadata.revocation_endpoint]) {
      const response = await fetch(endpoint, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(response.status, 413, endpoint);
      assert.match(response.headers.get('content-type'), /^application\/json/);
      assert.equal((await response.json()).error, 'invalid_request', endpoint);
    }
  });
});
