// Before any load: ask the server for one token exactly as wrk will, and check that the answer is what we mean
// to measure (HTTP 200, an RFC 9068 at+jwt signed ES256 with a key the server publishes, right audience and scope).
// With a file of subject tokens (exchange.sh): an RFC 8693 token exchange of its first token instead, asked twice
// (the first creates the user, the second finds the link): both must name the same user, a UUID in sub, and the
// response must say issued_token_type access_token; BENCH_EXCHANGE_PARAMS is appended to it as wrk.lua appends it.
// With BENCH_FORWARDED_FOR, the token request carries X-Forwarded-For as wrk.lua's do.
//
//   BENCH_SECRET=... [BENCH_FORWARDED_FOR=81.2.69.142] node check-token.mjs http://127.0.0.1:5090 [subject-tokens-file]
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const [base, subjectTokens] = process.argv.slice(2);
const secret = process.env.BENCH_SECRET;
const forwardedFor = process.env.BENCH_FORWARDED_FOR;
const fail = (message) => {
  console.error(`check-token ${base}: ${message}`);
  process.exit(1);
};

// The same bodies wrk.lua sends.
let body = 'grant_type=client_credentials&scope=write:orders';
if (subjectTokens) {
  const token = readFileSync(subjectTokens, 'utf8').split('\n')[0];
  body = `grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=${token}`
    + '&subject_token_type=urn:ietf:params:oauth:token-type:jwt&scope=write:orders'
    + (process.env.BENCH_EXCHANGE_PARAMS ?? '');
}

const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));

const ask = async () => {
  const response = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`bench-client:${secret}`).toString('base64')}`,
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) fail(`HTTP ${response.status}: ${text.slice(0, 1000)}`);

  const answer = JSON.parse(text);
  if (typeof answer.access_token !== 'string') fail('no access_token in the response');
  const header = decodeProtectedHeader(answer.access_token);
  if (header.alg !== 'ES256') fail(`alg is ${header.alg}, not ES256`);
  if (header.typ?.toLowerCase() !== 'at+jwt') fail(`typ is ${header.typ}, not at+jwt`);

  const { payload } = await jwtVerify(answer.access_token, jwks, {
    algorithms: ['ES256'],
    audience: 'https://orders.internal',
    typ: 'at+jwt',
  });
  if (!String(payload.scope ?? '').split(' ').includes('write:orders')) fail(`scope is ${payload.scope}`);
  if (payload.client_id !== 'bench-client') fail(`client_id is ${payload.client_id}`);
  return { text, answer, header, payload };
};

const { text, answer, header, payload } = await ask();
let exchanged = '';
if (subjectTokens) {
  if (answer.issued_token_type !== 'urn:ietf:params:oauth:token-type:access_token') {
    fail(`issued_token_type is ${answer.issued_token_type}: ${text.slice(0, 1000)}`);
  }
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!uuid.test(String(payload.sub))) fail(`sub is ${payload.sub}, not a UUID`);
  if (payload.act !== undefined) fail(`act is ${JSON.stringify(payload.act)}; an impersonation carries none`);
  const again = await ask();
  if (again.payload.sub !== payload.sub) fail(`the same subject token gave sub ${payload.sub}, then ${again.payload.sub}`);
  exchanged = `token exchange (issued_token_type access_token, sub=${payload.sub} both times), `;
}

const via = forwardedFor ? ` (X-Forwarded-For ${forwardedFor})` : '';
console.log(`check-token ${base}${via}: ${exchanged}HTTP 200, ${header.alg} ${header.typ}, signature verified against ${discovery.jwks_uri}, `
  + `aud=${payload.aud} scope=${payload.scope} lifetime=${payload.exp - payload.iat}s, response ${text.length} bytes`);
