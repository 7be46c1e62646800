// Before any load: ask the server for one token exactly as wrk will, and check that the answer is what we mean
// to measure (HTTP 200, an RFC 9068 at+jwt signed ES256 with a key the server publishes, right audience and scope).
//
//   BENCH_SECRET=... node check-token.mjs http://127.0.0.1:5090
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const base = process.argv[2];
const secret = process.env.BENCH_SECRET;
const fail = (message) => {
  console.error(`check-token ${base}: ${message}`);
  process.exit(1);
};

const response = await fetch(`${base}/token`, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`bench-client:${secret}`).toString('base64')}`,
  },
  body: 'grant_type=client_credentials&scope=write:orders',
});
const text = await response.text();
if (response.status !== 200) fail(`HTTP ${response.status}: ${text.slice(0, 300)}`);

const body = JSON.parse(text);
if (typeof body.access_token !== 'string') fail('no access_token in the response');
const header = decodeProtectedHeader(body.access_token);
if (header.alg !== 'ES256') fail(`alg is ${header.alg}, not ES256`);
if (header.typ?.toLowerCase() !== 'at+jwt') fail(`typ is ${header.typ}, not at+jwt`);

const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
const { payload } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(discovery.jwks_uri)), {
  algorithms: ['ES256'],
  audience: 'https://orders.internal',
  typ: 'at+jwt',
});
if (!String(payload.scope ?? '').split(' ').includes('write:orders')) fail(`scope is ${payload.scope}`);
if (payload.client_id !== 'bench-client') fail(`client_id is ${payload.client_id}`);

console.log(`check-token ${base}: HTTP 200, ${header.alg} ${header.typ}, signature verified against ${discovery.jwks_uri}, `
  + `aud=${payload.aud} scope=${payload.scope} lifetime=${payload.exp - payload.iat}s, response ${text.length} bytes`);
