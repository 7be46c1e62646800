// The peer: oidc-provider issuing ES256 JWT access tokens for client_credentials, configured to match what
// bench/tessera.template.json asks of Tessera. Default in-memory adapter. One Node process (its default), or with
// PEER_WORKERS=N Node's cluster mode: N worker processes sharing the port and the signing key, which is how
// oidc-provider is run on a multi-core host (JWT access tokens are not stored, so the workers share no state).
//
//   BENCH_SECRET=... [PEER_WORKERS=2] node oidc-provider-server.mjs 127.0.0.1 5091
import cluster from 'node:cluster';
import Provider from 'oidc-provider';
import { newSigningJwk, ordersResourceIndicators, SCOPE, serveClustered, signingKey } from './peer-common.mjs';

const [host = '127.0.0.1', port = '5091'] = process.argv.slice(2);
const secret = process.env.BENCH_SECRET;
if (!secret) {
  console.error('BENCH_SECRET is not set');
  process.exit(2);
}


const workers = Number(process.env.PEER_WORKERS ?? '1');
// A fresh P-256 signing key per run, as Tessera generates its own at first start, shared by every worker.
serveClustered(workers, () => ({ BENCH_SIGNING_JWK: newSigningJwk() }),
  `oidc-provider cluster: ${workers} workers on http://${host}:${port} (NODE_ENV=${process.env.NODE_ENV ?? ''})`, serve);

function serve() {
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
    jwks: { keys: [signingKey()] },
    scopes: [SCOPE],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: ordersResourceIndicators,
    },
  });

  const server = provider.listen(Number(port), host, () => {
    if (cluster.isPrimary) console.log(`oidc-provider listening on http://${host}:${port} (NODE_ENV=${process.env.NODE_ENV ?? ''})`);
  });

  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => server.close(() => process.exit(0)));
  }
}
