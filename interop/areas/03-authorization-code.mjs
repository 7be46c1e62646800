import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { audiences, scopes, verifyAccessToken } from '../lib/access-tokens.mjs';
import { signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, CONNECTION, environment, ORGANIZATION, REPORTS_AUDIENCE, USER_SCOPE } from '../lib/harness.mjs';
import { ACCOUNTS } from '../lib/upstream.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default () => describe('3. authorization code + PKCE through Tessera to oidc-provider (openid-client)', { timeout: AREA_TIMEOUT_MS }, () => {
  const subjects = {};

  test('alice (group Doctors) signs in through home-realm discovery and gets doctor_access', async () => {
    const env = environment();
    const config = await env.client('app-one');
    const before = { ...env.upstream.counts };
    const { tokens } = await signIn(env.browser(), config, {
      redirectUri: env.app.one.redirectUri,
      scope: USER_SCOPE,
      account: 'stm-1001',
      parameters: { login_hint: 'alice@stmarys.example' },
    });

    assert.equal(env.upstream.counts.authorization, before.authorization + 1, 'the upstream IdP was asked once');
    assert.equal(env.upstream.counts.token, before.token + 1, 'Tessera redeemed the upstream code once');

    const claims = tokens.claims();
    assert.equal(claims.iss, config.serverMetadata().issuer);
    assert.deepEqual([claims.aud].flat(), ['app-one']);
    assert.match(claims.sub, UUID, 'the subject is an internal UUID');
    assert.notEqual(claims.sub, 'stm-1001', 'the subject is not the upstream subject');
    assert.notEqual(claims.sub, ACCOUNTS['stm-1001'].email, 'the subject is not the email');
    assert.equal(claims.org, ORGANIZATION);
    assert.equal(claims.email, 'alice@stmarys.example');
    assert.ok(claims.sid, 'the ID token names the SSO session');

    const { payload } = await verifyAccessToken(config, tokens.access_token, { audience: REPORTS_AUDIENCE });
    assert.deepEqual(audiences(payload), [REPORTS_AUDIENCE]);
    assert.equal(payload.client_id, 'app-one');
    assert.equal(payload.sub, claims.sub);
    assert.equal(payload.sid, claims.sid);
    assert.equal(payload.org, ORGANIZATION);
    assert.ok(scopes(payload).includes('doctor_access'), `alice's token carries doctor_access (scope: ${payload.scope})`);
    assert.ok(scopes(payload).includes('read:reports'));
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    subjects.alice = claims.sub;
  });

  test('bob (not in Doctors) signs in through connection=stmarys-oidc and does not get doctor_access', async () => {
    const env = environment();
    const config = await env.client('app-one');
    const { tokens } = await signIn(env.browser(), config, {
      redirectUri: env.app.one.redirectUri,
      scope: USER_SCOPE,
      account: 'stm-1002',
      parameters: { connection: CONNECTION },
    });

    const claims = tokens.claims();
    assert.match(claims.sub, UUID);
    assert.notEqual(claims.sub, ACCOUNTS['stm-1002'].email);
    assert.equal(claims.email, 'bob@stmarys.example');
    assert.equal(claims.org, ORGANIZATION);
    if (subjects.alice) assert.notEqual(claims.sub, subjects.alice, 'two upstream users are two internal users');

    const { payload } = await verifyAccessToken(config, tokens.access_token, { audience: REPORTS_AUDIENCE });
    assert.equal(payload.sub, claims.sub);
    assert.ok(!scopes(payload).includes('doctor_access'), `bob's token must not carry doctor_access (scope: ${payload.scope})`);
    assert.ok(!(tokens.scope ?? '').split(' ').includes('doctor_access'), 'nor does the token response grant it');
    assert.ok(scopes(payload).includes('read:reports'), 'the scopes bob may have are still granted');
  });

  test('the same upstream user signing in again keeps the same internal subject', async () => {
    const env = environment();
    const config = await env.client('app-one');
    const { tokens } = await signIn(env.browser(), config, {
      redirectUri: env.app.one.redirectUri,
      scope: 'openid email',
      account: 'stm-1001',
      parameters: { connection: CONNECTION },
    });
    assert.ok(subjects.alice, 'alice signed in before');
    assert.equal(tokens.claims().sub, subjects.alice);
  });
});
