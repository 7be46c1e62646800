import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { verifyAccessToken } from '../lib/access-tokens.mjs';
import { signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, REPORTS_AUDIENCE, USER_SCOPE } from '../lib/harness.mjs';

export default () => describe('4. single sign-on across clients', { timeout: AREA_TIMEOUT_MS }, () => {
  test('app-two gets a code in the same browser without the upstream IdP being contacted', async () => {
    const env = environment();
    const browser = env.browser();
    const one = await signIn(browser, await env.client('app-one'), {
      redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, account: 'stm-1001',
      parameters: { login_hint: 'alice@stmarys.example' },
    });
    assert.ok(browser.cookie('tessera.session'), 'Tessera set its SSO session cookie');

    const before = { ...env.upstream.counts };
    const requestsBefore = browser.history.length;
    const twoConfig = await env.client('app-two');
    // No account: the flow fails if the upstream login form shows up.
    const two = await signIn(browser, twoConfig, { redirectUri: env.app.two.redirectUri, scope: USER_SCOPE });

    assert.deepEqual(env.upstream.counts, before, 'no authorization, token or userinfo request reached the upstream IdP');
    const upstreamOrigin = new URL(env.upstream.issuer).origin;
    const visited = browser.history.slice(requestsBefore);
    assert.deepEqual(visited.filter((line) => line.includes(upstreamOrigin)), [], 'the browser never went to the upstream IdP');
    assert.equal(visited.length, 1, `one request to Tessera's /authorize answered with the code: ${visited.join(', ')}`);

    const claims = two.tokens.claims();
    assert.deepEqual([claims.aud].flat(), ['app-two']);
    assert.equal(claims.sub, one.tokens.claims().sub, 'the same user');
    assert.equal(claims.sid, one.tokens.claims().sid, 'the same SSO session');
    const { payload } = await verifyAccessToken(twoConfig, two.tokens.access_token, { audience: REPORTS_AUDIENCE });
    assert.equal(payload.client_id, 'app-two');
    assert.equal(payload.sub, claims.sub);
  });
});
