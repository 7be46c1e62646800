// A foreign security token service, "the partner portal": a second real oidc-provider, in this process, whose JWT
// access tokens Tessera trusts as RFC 8693 subject tokens (TrustedIssuers "partner-portal"). The portal's backend
// gets them with client_credentials and a resource indicator (RFC 8707); the resource server info makes them RFC 9068
// JWTs for that audience, and extraTokenClaims stamps in which portal user the token is for (ext_user_id).
// Tessera finds the portal's keys through its discovery document; requests for both are counted, and rotate() swaps
// in a new signing key (a new kid, the old key no longer published) behind the same issuer and port.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import * as client from 'openid-client';

export const PARTNER_CLIENT_ID = 'partner-portal-backend';

/** What the portal issues tokens for: Tessera, and another service (for the wrong-audience case). */
export const PARTNER_RESOURCES = ['https://tessera.example', 'https://other.example'];

const TOKEN_TTL_SECONDS = 300; // shorter than Tessera's exchange policy allows, so the subject's expiry caps the result

/**
 * Starts the portal on 127.0.0.1:port. Returns its issuer, counters of the discovery and JWKS requests it served,
 * mint() for a subject token, publicJwks() for checking its tokens without HTTP, rotate(), and close().
 */
export async function startPartnerSts({ port, clientSecret }) {
  const issuer = `http://127.0.0.1:${port}`;
  // jwksAt: when the last JWKS request arrived (ms since the epoch), which is just after Tessera decided to fetch.
  const counts = { discovery: 0, jwks: 0, jwksAt: 0 };
  const errorsSeen = [];
  let generation = 0;
  let current = newProvider();

  function newProvider() {
    generation += 1;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `partner-rs256-${generation}`, alg: 'RS256', use: 'sig' };
    const provider = new Provider(issuer, {
      clients: [{
        client_id: PARTNER_CLIENT_ID,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      }],
      jwks: { keys: [signingKey] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      features: {
        devInteractions: { enabled: false }, // nobody signs in here; the portal only mints tokens for its backend
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          // A JWT access token needs an audience; without a resource indicator there is nothing to mint.
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo(_ctx, resourceIndicator) {
            if (!PARTNER_RESOURCES.includes(resourceIndicator)) throw new errors.InvalidTarget();
            return {
              audience: resourceIndicator,
              scope: '',
              accessTokenFormat: 'jwt',
              accessTokenTTL: TOKEN_TTL_SECONDS,
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
      // The portal's backend says which portal user the token is for (as its own session would know); the token
      // carries it as ext_user_id, the claim Tessera's trusted-issuer entry names as the subject.
      extraTokenClaims(ctx, token) {
        const user = ctx?.oidc?.body?.ext_user_id;
        return token.kind === 'ClientCredentials' && typeof user === 'string' ? { ext_user_id: user } : undefined;
      },
      ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
    });
    for (const event of ['server_error', 'grant.error']) {
      provider.on(event, (_ctx, error) => errorsSeen.push(`${event}: ${error.message} ${error.error_description ?? ''}`.trim()));
    }

    return {
      handle: provider.callback(),
      publicJwk: { kty: signingKey.kty, n: signingKey.n, e: signingKey.e, kid: signingKey.kid, alg: 'RS256', use: 'sig' },
    };
  }

  // One HTTP server for every generation of the provider: the issuer and its port never change, only the keys behind
  // them. Counting here sees exactly what Tessera asks for (this suite mints tokens without the portal's discovery).
  const server = createServer((req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (path === '/.well-known/openid-configuration') counts.discovery += 1;
    if (path === '/jwks') {
      counts.jwks += 1;
      counts.jwksAt = Date.now();
    }

    current.handle(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });

  // The portal's backend as an openid-client Configuration built from known metadata, so that minting a token
  // causes no discovery or JWKS request that the counters would then mistake for Tessera's.
  const backend = new client.Configuration(
    { issuer, token_endpoint: `${issuer}/token` },
    PARTNER_CLIENT_ID,
    undefined,
    client.ClientSecretBasic(clientSecret),
  );
  client.allowInsecureRequests(backend); // http on loopback only

  return {
    issuer,
    counts,
    errors: errorsSeen,
    /** The kid the portal signs with now. */
    get kid() { return current.publicJwk.kid; },
    /** The key set the portal publishes now, for checking its tokens locally. */
    publicJwks: () => ({ keys: [current.publicJwk] }),
    /** A JWT access token from the portal for `user`, meant for `resource`. */
    async mint({ user, resource = PARTNER_RESOURCES[0] }) {
      const tokens = await client.clientCredentialsGrant(backend, { resource, ext_user_id: user });
      return tokens.access_token;
    },
    /** Key rotation: from now on the portal signs with a new key and publishes only that one. */
    rotate() {
      current = newProvider();
      return current.publicJwk.kid;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
