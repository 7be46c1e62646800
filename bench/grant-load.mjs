// The load of refresh.sh: CONCURRENCY virtual clients of the app bench-app (confidential, HTTP Basic), each with
// keep-alive and the refresh token and session cookie that its own sign-in left in STATE (interop/bench/grant-seed.mjs,
// before any timer), repeat one unit until DURATION seconds have passed. BENCH_WORKLOAD says which:
//
// - refresh: POST /token grant_type=refresh_token with the client's current refresh token: 200 with an access token
//   and a new refresh token, which the next request presents. Rotation is real: the token just presented is spent, so
//   a refusal breaks the chain; such a client counts one error and stops for the rest of the run (its next request
//   would be a reuse, which revokes its family). One unit is one request.
// - code: an SSO sign-in into the app. GET the authorization endpoint with the session cookie (response_type code,
//   scope "openid write:orders", PKCE S256, state, nonce): a redirect straight to the app's redirect URI with a code
//   and the state, no page and no upstream hop in between; then POST /token grant_type=authorization_code with the
//   code, redirect URI and verifier: 200 with an access token and an ID token. One unit is the two requests; a
//   redirect anywhere else (a login page, the upstream) is an error. Cookies the server sets are kept, as a browser does.
//
// The state file's refresh tokens are written back after the run, so the next run continues each chain. With CHECK=1 the
// first unit of the first client is checked in full before the load: the access token an at+jwt signed ES256 by a key
// at discovery's jwks_uri, audience https://orders.internal, scope write:orders, client_id bench-app; for refresh the
// new refresh token differs from the one presented; for code the ID token verified too, with the request's nonce and
// audience bench-app. A failed check exits 1.
// Prints one line: BENCH_RESULT <refreshes|signins>=N rps=X p50_us=.. p99_us=.. non2xx=.. wrong=.. connect=.. timeout=..
//
//   BENCH_SECRET=... BENCH_STATE=state.json BENCH_WORKLOAD=refresh|code BENCH_REDIRECT_URI=... \
//     node grant-load.mjs http://127.0.0.1:5090 DURATION CONCURRENCY [CHECK]
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { loadGenerator, unexpected, wrong } from './wallet-lib.mjs';

const CLIENT_ID = 'bench-app';
const AUDIENCE = 'https://orders.internal';
const SCOPE = 'write:orders';
const { BENCH_STATE: stateFile, BENCH_WORKLOAD: workload, BENCH_REDIRECT_URI: redirectUri } = process.env;

const generator = loadGenerator('grant-load');
const { base, concurrency, fail, request } = generator;
if (!['refresh', 'code'].includes(workload) || !stateFile || !redirectUri) fail('BENCH_WORKLOAD (refresh or code), BENCH_STATE and BENCH_REDIRECT_URI must be set');

const state = JSON.parse(readFileSync(stateFile, 'utf8'));
if (state.clients.length < concurrency) fail(`${stateFile} has ${state.clients.length} signed-in clients, fewer than ${concurrency}`);
const clients = state.clients.slice(0, concurrency).map((seeded) => ({ ...seeded, cookies: new Map(parseCookies(seeded.cookie)) }));

const discovery = await generator.json('GET', `${base}/.well-known/openid-configuration`);
const { authorization_endpoint: authorizationEndpoint, token_endpoint: tokenEndpoint } = discovery;
const tokenHeaders = { 'content-type': 'application/x-www-form-urlencoded', authorization: generator.basic(CLIENT_ID) };

/** "a=1; b=2" as [name, value] pairs. */
function parseCookies(header) {
  return header.split(';').map((pair) => pair.trim()).filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]);
}

/** A 200 token response as JSON, or throws as the loop counts it. */
async function token(step, body) {
  const response = await request('POST', tokenEndpoint, { headers: tokenHeaders, body: new URLSearchParams(body).toString() });
  if (response.status !== 200) throw unexpected(step, response);
  try {
    return JSON.parse(response.body);
  } catch {
    throw wrong(`${step} answered 200 with ${response.body.slice(0, 100)}`);
  }
}

/**
 * One refresh: the rotated pair; answers the response. A failure spends the chain (the token presented may have been
 * rotated without the client learning the successor), so the client retires for the rest of the run.
 */
async function refreshOnce(client) {
  const presented = client.refreshToken;
  try {
    const answer = await token('refresh', { grant_type: 'refresh_token', refresh_token: presented });
    if (typeof answer.access_token !== 'string' || typeof answer.refresh_token !== 'string' || answer.refresh_token === presented) {
      throw wrong(`the refresh answered without a new refresh token: ${Object.keys(answer).join(', ')}`);
    }
    client.refreshToken = answer.refresh_token;
    return { answer, presented };
  } catch (error) {
    throw Object.assign(error, { retire: true });
  }
}

/** One SSO sign-in into the app: authorize with the session cookie, then redeem the code; answers what the check reads. */
async function signInOnce(client) {
  const verifier = randomBytes(32).toString('base64url');
  const stateValue = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const url = `${authorizationEndpoint}?${new URLSearchParams({
    client_id: CLIENT_ID, redirect_uri: redirectUri, response_type: 'code', scope: `openid ${SCOPE}`,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', state: stateValue, nonce,
  })}`;
  const authorized = await request('GET', url, { headers: { cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } });
  for (const line of authorized.headers['set-cookie'] ?? []) {
    const [name, value] = parseCookies(line.split(';')[0])[0] ?? [];
    if (name) client.cookies.set(name, value);
  }
  if (authorized.status !== 302 && authorized.status !== 303) throw unexpected('authorize', authorized);
  const location = new URL(authorized.headers.location, url);
  if (`${location.origin}${location.pathname}` !== redirectUri) throw wrong(`authorize redirected to ${location.origin}${location.pathname}, not to the app`);
  const code = location.searchParams.get('code');
  if (!code || location.searchParams.get('state') !== stateValue) throw wrong(`authorize redirected to the app with ${[...location.searchParams.keys()].join(', ')}`);

  const answer = await token('token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  if (typeof answer.access_token !== 'string' || typeof answer.id_token !== 'string') throw wrong(`the code redeemed without an access and ID token: ${Object.keys(answer).join(', ')}`);
  return { answer, nonce, location };
}

if (generator.check) {
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const verifyAccessToken = async (accessToken) => {
    const header = decodeProtectedHeader(accessToken);
    const { payload } = await jwtVerify(accessToken, jwks, { algorithms: ['ES256'], typ: 'at+jwt', audience: AUDIENCE, issuer: discovery.issuer })
      .catch((error) => fail(`the access token does not verify against ${discovery.jwks_uri}: ${error.message}`));
    if (!String(payload.scope ?? '').split(' ').includes(SCOPE)) fail(`access token scope ${payload.scope}`);
    if (payload.client_id !== CLIENT_ID) fail(`access token client_id ${payload.client_id}`);
    return `access token ${header.alg} ${header.typ} verified against ${discovery.jwks_uri}, aud ${payload.aud}, scope "${payload.scope}", lifetime ${payload.exp - payload.iat} s`;
  };
  if (workload === 'refresh') {
    const { answer } = await refreshOnce(clients[0]).catch((error) => fail(`the first refresh: ${error.message}`));
    const idToken = typeof answer.id_token === 'string' ? ', an ID token' : ', no ID token';
    console.log(`check ${base}: refresh_token grant 200, a new refresh token (rotated)${idToken}, ${await verifyAccessToken(answer.access_token)}`);
  } else {
    const { answer, nonce, location } = await signInOnce(clients[0]).catch((error) => fail(`the first sign-in: ${error.message}`));
    const { payload: id } = await jwtVerify(answer.id_token, jwks, { issuer: discovery.issuer, audience: CLIENT_ID })
      .catch((error) => fail(`the ID token does not verify: ${error.message}`));
    if (id.nonce !== nonce) fail(`ID token nonce ${id.nonce}, not the request's`);
    const refresh = answer.refresh_token ? ', and a refresh token' : ', no refresh token';
    console.log(`check ${base}: authorize with the session cookie redirected straight to the app (${[...location.searchParams.keys()].join(', ')}); `
      + `code redeemed: ${await verifyAccessToken(answer.access_token)}; ID token verified, nonce matches${refresh}`);
  }
}

try {
  await generator.run(clients, workload === 'refresh' ? refreshOnce : signInOnce, workload === 'refresh' ? 'refreshes' : 'signins');
} finally {
  // The next run continues each chain where this one left it.
  state.clients.splice(0, clients.length, ...clients.map(({ refreshToken, cookies }) => ({
    refreshToken, cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
  })));
  writeFileSync(stateFile, `${JSON.stringify(state, null, 1)}\n`);
}
