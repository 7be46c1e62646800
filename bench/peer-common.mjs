// What the two oidc-provider peers share: the API their access tokens are for (audience and scope, as Tessera's bench
// templates name them), the ES256 signing key, and running the server in this process or, with more than one worker,
// as the primary of Node's cluster mode, forking that many workers (they share the port) with the environment the
// primary made once (keys every worker must hold alike), and stopping them all on SIGINT or SIGTERM.
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';

export const AUDIENCE = 'https://orders.internal';
export const SCOPE = 'write:orders';

/** A fresh P-256 private key as a JWK string, made once per run by the primary (BENCH_SIGNING_JWK of every worker). */
export const newSigningJwk = () => JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));

/** The signing key of this process: the one the primary handed down, or a fresh one when it runs alone. */
export function signingKey() {
  return { ...JSON.parse(process.env.BENCH_SIGNING_JWK ?? newSigningJwk()), kid: 'bench-es256', alg: 'ES256', use: 'sig' };
}

/** Resource indicators for the one API: ES256 JWT access tokens for AUDIENCE with SCOPE, 10 minutes, as Tessera's. */
export const ordersResourceIndicators = {
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
};

/**
 * @param {number} workers how many processes serve (1: this one)
 * @param {() => Record<string, string>} sharedEnv made once by the primary, passed to every worker
 * @param {string} description logged by the primary once the workers are forked
 * @param {() => void} serve what each serving process runs
 */
export function serveClustered(workers, sharedEnv, description, serve) {
  if (workers <= 1 || !cluster.isPrimary) {
    serve();
    return;
  }

  const env = sharedEnv();
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork(env);
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers)) worker.kill('SIGTERM');
      setTimeout(() => process.exit(0), 2000).unref();
      cluster.on('exit', () => { if (Object.keys(cluster.workers).length === 0) process.exit(0); });
    });
  }
  console.log(description);
}
