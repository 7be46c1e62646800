import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { verifyAccessToken } from '../lib/access-tokens.mjs';
import { oauthError, signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, REPORTS_AUDIENCE, USER_SCOPE } from '../lib/harness.mjs';

export default () => describe('5. refresh token rotation and reuse detection (openid-client refreshTokenGrant)', { timeout: AREA_TIMEOUT_MS }, () => {
  test('a refresh rotates the token; reusing the spent one fails and revokes the whole family', async () => {
    const env = environment();
    const config = await env.client('app-one');
    const { tokens } = await signIn(env.browser(), config, {
      redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, account: 'stm-1001',
      parameters: { login_hint: 'alice@stmarys.example' },
    });
    const first = tokens.refresh_token;
    assert.ok(first);

    const refreshed = await client.refreshTokenGrant(config, first);
    const second = refreshed.refresh_token;
    assert.ok(second, 'the refresh response carries a new refresh token');
    assert.notEqual(second, first, 'the refresh token rotated');
    assert.notEqual(refreshed.access_token, tokens.access_token);
    const { payload } = await verifyAccessToken(config, refreshed.access_token, { audience: REPORTS_AUDIENCE });
    assert.equal(payload.sub, tokens.claims().sub);
    assert.ok(payload.scope.split(' ').includes('doctor_access'), 'the refreshed token keeps the granted scopes');

    await assert.rejects(client.refreshTokenGrant(config, first), oauthError('invalid_grant'), 'the spent refresh token is refused');
    await assert.rejects(client.refreshTokenGrant(config, second), oauthError('invalid_grant'), 'reuse revoked the newest token of the family too');
    // Invariant 3: the whole family, so the access tokens it produced are no longer active either.
    const reports = await env.client('reports-api');
    for (const accessToken of [tokens.access_token, refreshed.access_token]) {
      assert.deepEqual({ ...await client.tokenIntrospection(reports, accessToken) }, { active: false });
    }
  });
});
