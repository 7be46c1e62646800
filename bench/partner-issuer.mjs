// The foreign issuer for exchange.sh: a fresh RSA key, N subject tokens signed RS256 with it, and its JWKS.
// Writes the tokens to a file (one a line, for wrk.lua and check-token.mjs), then serves on host:port
//   /jwks     the public key set, {keys: [...]}, no Cache-Control (Tessera then keeps it for its default hour)
//   /healthz  readiness, not counted
//   /stats    {"jwks_requests": n}, how often /jwks was fetched, not counted
// and prints the count to standard output when it stops.
//
//   node partner-issuer.mjs 127.0.0.1 5092 /tmp/subject-tokens.txt 100
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';

const [host = '127.0.0.1', port = '5092', file, count = '100'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node partner-issuer.mjs host port tokens-file [count]');
  process.exit(2);
}

// Must match bench/tessera-exchange.template.json (TrustedIssuers).
const ISSUER = 'https://portal.partner.example';
const AUDIENCE = 'https://tessera.example';

const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
const jwk = await exportJWK(publicKey);
jwk.kid = await calculateJwkThumbprint(jwk);
jwk.alg = 'RS256';
jwk.use = 'sig';
const jwks = JSON.stringify({ keys: [jwk] });

// One token per partner user; valid for 2 h, longer than any run.
const now = Math.floor(Date.now() / 1000);
const tokens = [];
for (let i = 1; i <= Number(count); i++) {
  tokens.push(await new SignJWT({ ext_user_id: `partner-user-${String(i).padStart(4, '0')}` })
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 2 * 3600)
    .sign(privateKey));
}
writeFileSync(file, `${tokens.join('\n')}\n`);

let jwksRequests = 0;
const server = createServer((request, response) => {
  const path = new URL(request.url, 'http://localhost').pathname;
  if (request.method !== 'GET') {
    response.writeHead(405).end();
  } else if (path === '/jwks') {
    jwksRequests++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  } else if (path === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jwks_requests: jwksRequests }));
  } else if (path === '/healthz') {
    response.writeHead(200).end('ok');
  } else {
    response.writeHead(404).end();
  }
});
server.listen(Number(port), host, () => console.log(`partner issuer on http://${host}:${port}, ${tokens.length} subject tokens in ${file}`));

const stop = () => {
  console.log(`jwks_requests=${jwksRequests}`);
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
