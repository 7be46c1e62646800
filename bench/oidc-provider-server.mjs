// The peer: oidc-provider issuing ES256 JWT access tokens for client_credentials, configured to match what
// bench/tessera.template.json asks of Tessera. Default in-memory adapter, one Node process (its default).
//
//   BENCH_SECRET=... node oidc-provider-server.mjs 127.0.0.1 5091
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [host = '127.0.0.1', port = '5091'] = process.argv.slice(2);
const secret = process.env.BENCH_SECRET;
if (!secret) {
  console.error('BENCH_SECRET is not set');
  process.exit(2);
}

const AUDIENCE = 'https://orders.internal';
const SCOPE = 'write:orders';

// A fresh P-256 signing key per run, as Tessera generates its own at first start.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const provider = new Provider(`http://${host}:${port}`, {
  clients: [{
    client_id: 'bench-client',
    client_secret: secret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPE,
    // The only key is ES256, so the client's (unused) ID token algorithm must be ES256 too.
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [signingKey] },
  scopes: [SCOPE],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPE,
        audience: AUDIENCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});

const server = provider.listen(Number(port), host, () => {
  console.log(`oidc-provider listening on http://${host}:${port} (NODE_ENV=${process.env.NODE_ENV ?? ''})`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
