// jose as the independent verifier of Tessera's access tokens (RFC 9068): signature against the JWKS
// that discovery names, fetched over HTTP like any resource server would, plus typ, issuer and audience.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const keySets = new Map();

/** Verifies an access token issued by the server behind config (an openid-client Configuration). */
export async function verifyAccessToken(config, token, { audience } = {}) {
  const { issuer, jwks_uri: jwksUri } = config.serverMetadata();
  if (!keySets.has(jwksUri)) keySets.set(jwksUri, createRemoteJWKSet(new URL(jwksUri)));
  return jwtVerify(token, keySets.get(jwksUri), {
    issuer,
    audience,
    typ: 'at+jwt', // RFC 9068 §2.1; jose also accepts application/at+jwt
    algorithms: ['ES256', 'RS256'],
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'], // RFC 9068 §2.2
  });
}

export function scopes(payload) {
  return (payload.scope ?? '').split(' ').filter(Boolean);
}

export function audiences(payload) {
  return [payload.aud].flat();
}
