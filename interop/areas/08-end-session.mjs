import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { authorize, oauthError, signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, USER_SCOPE } from '../lib/harness.mjs';

export default () => describe('8. RP-initiated logout (openid-client buildEndSessionUrl)', { timeout: AREA_TIMEOUT_MS }, () => {
  test('logout returns to the post-logout URI, ends the SSO session and revokes its tokens', async () => {
    const env = environment();
    const config = await env.client('app-one');
    const browser = env.browser();
    const { tokens } = await signIn(browser, config, {
      redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, account: 'stm-1001',
      parameters: { login_hint: 'alice@stmarys.example' },
    });
    const cookiesBeforeLogout = browser.fork(); // a copy of the session cookie, as a stolen or stale one would be

    const state = client.randomState();
    const logout = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: env.app.one.postLogoutRedirectUri,
      state,
    });
    const landed = await browser.navigate(logout);
    assert.equal(landed.status, null, `logout ended on a page instead of a redirect: ${landed.url} (status ${landed.status})`);
    assert.equal(`${landed.url.origin}${landed.url.pathname}`, env.app.one.postLogoutRedirectUri);
    assert.equal(landed.url.searchParams.get('state'), state, 'the logout state is returned');
    assert.equal(browser.cookie('tessera.session'), undefined, 'the SSO session cookie is deleted');
    assert.ok(cookiesBeforeLogout.cookie('tessera.session'), 'the copy still holds it');

    const upstreamBefore = { ...env.upstream.counts };
    for (const [who, b] of [['the browser that logged out', browser], ['a browser still holding the old session cookie', cookiesBeforeLogout]]) {
      const silent = await authorize(b, config, {
        redirectUri: env.app.one.redirectUri, scope: 'openid', parameters: { prompt: 'none' },
      });
      assert.equal(silent.callbackUrl.searchParams.get('error'), 'login_required', `prompt=none for ${who}: ${silent.callbackUrl}`);
      assert.equal(silent.callbackUrl.searchParams.get('code'), null);
      // openid-client reads the same answer as an authorization error.
      await assert.rejects(
        client.authorizationCodeGrant(config, silent.callbackUrl, { pkceCodeVerifier: silent.codeVerifier, expectedState: silent.state }),
        (error) => error instanceof client.AuthorizationResponseError && error.error === 'login_required',
      );
    }

    assert.deepEqual(env.upstream.counts, upstreamBefore, 'prompt=none never reaches the upstream IdP');
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), oauthError('invalid_grant'), "the session's refresh token is revoked");
    const reports = await env.client('reports-api');
    assert.deepEqual({ ...await client.tokenIntrospection(reports, tokens.access_token) }, { active: false }, "the session's access token is revoked");
  });
});
