import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { oauthError, signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, USER_SCOPE } from '../lib/harness.mjs';

export default () => describe('7. revocation (openid-client tokenRevocation)', { timeout: AREA_TIMEOUT_MS }, () => {
  test('revoking a refresh token ends refresh and the access tokens of the same grant', async () => {
    const env = environment();
    const config = await env.client('app-one');
    const { tokens } = await signIn(env.browser(), config, {
      redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, account: 'stm-1001',
      parameters: { login_hint: 'alice@stmarys.example' },
    });
    const reports = await env.client('reports-api');
    assert.equal((await client.tokenIntrospection(reports, tokens.access_token)).active, true, 'active before revocation');

    await client.tokenRevocation(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });

    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), oauthError('invalid_grant'), 'the revoked refresh token is refused');
    // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of the same grant.
    assert.deepEqual({ ...await client.tokenIntrospection(reports, tokens.access_token) }, { active: false });
  });
});
