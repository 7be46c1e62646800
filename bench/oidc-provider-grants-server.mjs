// The peer of refresh.sh: oidc-provider as an app's OpenID Provider, configured to match what
// tessera-grants.template.json asks of Tessera: one confidential client (bench-app, client_secret_basic) with the code
// and refresh_token grants and the scopes openid, offline_access and write:orders; ES256 JWT access tokens for
// https://orders.internal (resource indicators); refresh tokens rotated at every use, a reused one refused with its
// whole grant revoked (oidc-provider does that by itself); the same lifetimes as Tessera's defaults.
// Storage is PostgreSQL (oidc-provider-pg-adapter.mjs), shared by the workers: sessions, interactions, grants, codes
// and refresh tokens must be seen by every worker. With PEER_WORKERS=N it runs in Node's cluster mode, N workers
// sharing the port, the signing key and the cookie keys, which is how oidc-provider runs on a multi-core host.
// Sign-in is oidc-provider's development interactions (a login form taking any account id, then a consent form),
// which the benchmark's seeding fills in once per virtual client; enabled here only.
//
//   BENCH_SECRET=... BENCH_REDIRECT_URI=http://127.0.0.1:5099/cb BENCH_PEER_DATABASE=postgres://... \
//     [PEER_WORKERS=2] [PEER_POOL=10] node oidc-provider-grants-server.mjs 127.0.0.1 5091
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { createSchema, postgresAdapter } from './oidc-provider-pg-adapter.mjs';
import { newSigningJwk, ordersResourceIndicators, SCOPE, serveClustered, signingKey } from './peer-common.mjs';

const [host = '127.0.0.1', port = '5091'] = process.argv.slice(2);
const { BENCH_SECRET: secret, BENCH_REDIRECT_URI: redirectUri, BENCH_PEER_DATABASE: database } = process.env;
if (!secret || !redirectUri || !database) {
  console.error('BENCH_SECRET, BENCH_REDIRECT_URI and BENCH_PEER_DATABASE must be set');
  process.exit(2);
}

const DAY = 24 * 60 * 60;

const workers = Number(process.env.PEER_WORKERS ?? '1');
if (cluster.isPrimary) {
  // Once, before any worker could race another to create it.
  await createSchema(database);
}

// A fresh P-256 signing key and cookie key per run, shared by every worker: a cookie signed by one must verify on the
// others.
serveClustered(workers, () => ({
  BENCH_SIGNING_JWK: newSigningJwk(),
  BENCH_COOKIE_KEY: randomBytes(32).toString('base64url'),
}), `oidc-provider cluster: ${workers} workers on http://${host}:${port}, storage PostgreSQL (NODE_ENV=${process.env.NODE_ENV ?? ''})`, serve);

function serve() {
  const provider = new Provider(`http://${host}:${port}`, {
    adapter: postgresAdapter(database, { poolSize: Number(process.env.PEER_POOL ?? '10') }),
    clients: [{
      client_id: 'bench-app',
      client_secret: secret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
      scope: `openid offline_access ${SCOPE}`,
      // The only key is ES256, so ID tokens are ES256 too (Tessera's default for a client).
      id_token_signed_response_alg: 'ES256',
    }],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [process.env.BENCH_COOKIE_KEY ?? randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', SCOPE],
    // Every refresh rotates (oidc-provider's default rotates only some); a consumed one presented again revokes the grant.
    rotateRefreshToken: true,
    // Tessera's defaults: access and ID tokens 10 minutes, codes 1 minute, refresh tokens 14 days, sessions 24 hours.
    ttl: {
      AccessToken: 600, IdToken: 600, AuthorizationCode: 60, RefreshToken: 14 * DAY, Grant: 14 * DAY, Session: DAY, Interaction: 600,
    },
    // Any account id typed at the development login is an account whose only claim is its subject.
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: ordersResourceIndicators,
    },
  });

  // Refusals are the benchmark's errors; say why in the log, once per kind and worker.
  const said = new Set();
  for (const event of ['server_error', 'grant.error', 'authorization.error']) {
    provider.on(event, (_ctx, error) => {
      const line = `${event}: ${error.message} ${error.error_description ?? ''}`.trim();
      if (!said.has(line)) console.error(line);
      said.add(line);
    });
  }

  const server = provider.listen(Number(port), host, () => {
    if (cluster.isPrimary) console.log(`oidc-provider listening on http://${host}:${port}, storage PostgreSQL (NODE_ENV=${process.env.NODE_ENV ?? ''})`);
  });

  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => server.close(() => process.exit(0)));
  }
}
