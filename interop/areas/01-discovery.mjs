import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as client from 'openid-client';
import { AREA_TIMEOUT_MS, environment } from '../lib/harness.mjs';

export default () => describe('1. discovery (openid-client discovery())', { timeout: AREA_TIMEOUT_MS }, () => {
  test('openid-client discovers the issuer and every endpoint the suite relies on', async () => {
    const { tesseraUrl } = environment();
    const config = await client.discovery(new URL(tesseraUrl), 'app-one', undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const metadata = config.serverMetadata();

    // The issuer is the configured one with a trailing slash, and openid-client accepted it as the issuer asked for.
    assert.equal(metadata.issuer, `${tesseraUrl}/`);
    assert.deepEqual(
      {
        authorization: metadata.authorization_endpoint,
        token: metadata.token_endpoint,
        userinfo: metadata.userinfo_endpoint,
        introspection: metadata.introspection_endpoint,
        revocation: metadata.revocation_endpoint,
        endSession: metadata.end_session_endpoint,
        jwks: metadata.jwks_uri,
      },
      {
        authorization: `${tesseraUrl}/authorize`,
        token: `${tesseraUrl}/token`,
        userinfo: `${tesseraUrl}/userinfo`,
        introspection: `${tesseraUrl}/introspect`,
        revocation: `${tesseraUrl}/revoke`,
        endSession: `${tesseraUrl}/logout`,
        jwks: `${tesseraUrl}/.well-known/jwks.json`,
      },
    );
    assert.ok(metadata.supportsPKCE('S256'), 'PKCE S256 is advertised');
    for (const grant of ['authorization_code', 'refresh_token', 'client_credentials']) {
      assert.ok(metadata.grant_types_supported.includes(grant), `grant ${grant} is advertised`);
    }

    assert.ok(metadata.response_types_supported.includes('code'));
    assert.ok(metadata.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);

    const jwks = await (await fetch(metadata.jwks_uri)).json();
    assert.ok(jwks.keys.length > 0, 'the JWKS publishes at least one key');
    for (const key of jwks.keys) {
      assert.ok(key.kid, 'every published key has a kid');
      assert.equal(key.d, undefined, 'no private key material is published');
    }
  });
});
