import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { audiences, verifyAccessToken } from '../lib/access-tokens.mjs';
import { AREA_TIMEOUT_MS, environment, ORDERS_AUDIENCE, REPORTS_AUDIENCE } from '../lib/harness.mjs';

const KNOWN_CLIENTS = ['app-one', 'app-two', 'orders-service', 'reports-api'];

export default () => describe('9. every access token issued in the suite verifies with jose', { timeout: AREA_TIMEOUT_MS }, () => {
  test('each access token from the token endpoint is a valid RFC 9068 JWT under the published JWKS', async () => {
    const env = environment();
    const issued = env.issued.accessTokens;
    // Areas 2-8 obtain 11 access tokens; fewer means the recorder missed some (or only part of the suite ran).
    assert.ok(issued.length >= 11, `only ${issued.length} access tokens were recorded`);
    assert.equal(new Set(issued).size, issued.length, 'no access token was issued twice');

    const config = await env.client('reports-api');
    const failures = [];
    for (const [index, token] of issued.entries()) {
      try {
        const { payload } = await verifyAccessToken(config, token);
        assert.ok(KNOWN_CLIENTS.includes(payload.client_id), `client_id ${payload.client_id}`);
        assert.ok(audiences(payload).every((a) => [REPORTS_AUDIENCE, ORDERS_AUDIENCE].includes(a)), `aud ${payload.aud}`);
      } catch (error) {
        failures.push(`#${index}: ${error.code ?? ''} ${error.message}`);
      }
    }

    assert.deepEqual(failures, [], `${failures.length} of ${issued.length} access tokens failed verification`);
  });
});
