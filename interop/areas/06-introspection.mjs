import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, ORGANIZATION, REPORTS_AUDIENCE, USER_SCOPE } from '../lib/harness.mjs';

export default () => describe('6. introspection (openid-client tokenIntrospection)', { timeout: AREA_TIMEOUT_MS }, () => {
  test("reports-api sees app-one's access token for its audience as active; orders-service sees it inactive", async () => {
    const env = environment();
    const { tokens } = await signIn(env.browser(), await env.client('app-one'), {
      redirectUri: env.app.one.redirectUri, scope: USER_SCOPE, account: 'stm-1001',
      parameters: { login_hint: 'alice@stmarys.example' },
    });
    const sub = tokens.claims().sub;

    const reports = await env.client('reports-api');
    const seen = await client.tokenIntrospection(reports, tokens.access_token, { token_type_hint: 'access_token' });
    assert.equal(seen.active, true);
    assert.equal(seen.sub, sub);
    assert.equal(seen.client_id, 'app-one');
    assert.equal(seen.iss, reports.serverMetadata().issuer);
    assert.ok([seen.aud].flat().includes(REPORTS_AUDIENCE), `aud includes ${REPORTS_AUDIENCE}: ${JSON.stringify(seen.aud)}`);
    // RFC 7662 §2.2: the resource server needs the scopes to decide; an answer without them is useless to it.
    assert.equal(typeof seen.scope, 'string', `the introspection answer to the audience's API carries scope: ${JSON.stringify(seen)}`);
    const scope = seen.scope.split(' ');
    for (const expected of ['read:reports', 'doctor_access', 'openid']) {
      assert.ok(scope.includes(expected), `scope includes ${expected}: ${seen.scope}`);
    }

    assert.ok(seen.exp > Date.now() / 1000);
    assert.equal(seen.org, ORGANIZATION, 'the organization claim is part of what the API learns');

    const orders = await env.client('orders-service');
    const unseen = await client.tokenIntrospection(orders, tokens.access_token, { token_type_hint: 'access_token' });
    assert.deepEqual({ ...unseen }, { active: false }, 'a client outside the audience learns nothing about the token');
  });
});
