// The load of presentations.sh: OpenID4VP 1.0 verifications by a bounded number of app and wallet pairs, for a
// bounded time, cross-device (no redirect_uri, so no response_code).
// Setup (not measured): a user over 21 provisioned over SCIM, a pre-authorized offer of the `age` credential and its
// access token (wallet-lib.mjs), then CONCURRENCY wallets, each with its own ES256 key and one age credential issued
// to it. Each wallet keeps the issuer-signed JWT and the two disclosures "over 21" needs (`age_equal_or_over` and its
// `21`), found by decoding each disclosure, and leaves out `18`.
// Then each pair repeats until DURATION seconds have passed:
//   1. the app (bench-verifier, HTTP Basic) POSTs /presentations/requests presentation=over-21: 201;
//   2. the wallet GETs the request_uri: the unsigned request object (client_id, nonce, state, response_uri, dcql_query);
//   3. the wallet signs a KB-JWT (kb+jwt, ES256; aud the client_id, the nonce, iat, sd_hash of jwt~d1~d2~) and POSTs
//      vp_token {"<query id>": ["jwt~d1~d2~kb"]} and state to the response_uri: 200;
//   4. the app POSTs /presentations/result request_id: 200 with claims.age_over_21 true.
// One verification is the four; its latency is from the first request to the result's last byte. With CHECK=1 the
// first verification is also checked in full before the load starts (the request object's header and client_id, the
// result's claims exactly {age_over_21: true}, its token verified with jose against the keys at discovery's jwks_uri,
// audience bench-verifier, no other claim); a failed check exits 1.
// Prints one line: BENCH_RESULT verifications=N rps=X p50_us=.. p99_us=.. non2xx=.. wrong=.. connect=.. timeout=..
//
//   BENCH_SECRET=... BENCH_SCIM_TOKEN=... node presentation-load.mjs http://127.0.0.1:5090 DURATION CONCURRENCY [CHECK]
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { holders, issue, loadGenerator, preAuthorized, unexpected, wrong } from './wallet-lib.mjs';

const APP = 'bench-verifier';
const PRESENTATION = 'over-21';
/** What a result token may carry besides the one claim the presentation maps. */
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

const generator = loadGenerator('presentation-load');
const { base, fail, request } = generator;
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const app = { ...form, authorization: generator.basic(APP) };

// SCIM has no birth date, and Tessera keeps only the attributes its schemas define: the bench's age credential reads
// the date from nickName, a free-text attribute no token carries.
const issuer = await preAuthorized(generator, 'age', { nickName: '1990-05-01' });
const wallets = await Promise.all((await holders(generator.concurrency)).map(async (holder) => {
  const credential = await issue(generator, issuer, holder, 'age').catch((error) => fail(`issuing the age credential: ${error.message}`));
  return { ...holder, ...over21(credential) };
}));

/** The presented part of `credential` for "over 21" (jwt~d1~d2~) and its sd_hash, the same for every presentation. */
function over21(credential) {
  const [jwt, ...rest] = credential.split('~');
  const named = (name) => rest.filter((d) => d && JSON.parse(Buffer.from(d, 'base64url'))[1] === name);
  const [object, age21] = [named('age_equal_or_over'), named('21')];
  if (object.length !== 1 || age21.length !== 1) fail(`the age credential has ${object.length} age_equal_or_over and ${age21.length} "21" disclosures, not one of each`);
  if (JSON.parse(Buffer.from(age21[0], 'base64url'))[2] !== true) fail('the user is not over 21 in the credential');
  const presented = `${jwt}~${object[0]}~${age21[0]}~`;
  return { presented, sdHash: createHash('sha256').update(presented, 'ascii').digest('base64url') };
}

/** One verification, steps 1 to 4 above; answers what the check looks at, or throws with the status. */
async function verify(wallet) {
  const created = await request('POST', `${base}/presentations/requests`, { headers: app, body: `presentation=${PRESENTATION}` });
  if (created.status !== 201) throw unexpected('request', created);
  const { request_id: requestId, request_uri: requestUri, wallet_link: walletLink } = JSON.parse(created.body);

  const fetched = await request('GET', requestUri);
  if (fetched.status !== 200) throw unexpected('request object', fetched);
  const requestObject = decodeJwt(fetched.body);
  const { client_id: aud, nonce, state, response_uri: responseUri, dcql_query: query } = requestObject;

  const kb = await new SignJWT({ aud, nonce, sd_hash: wallet.sdHash })
    .setProtectedHeader({ typ: 'kb+jwt', alg: 'ES256' })
    .setIssuedAt()
    .sign(wallet.privateKey);
  const vpToken = JSON.stringify({ [query.credentials[0].id]: [wallet.presented + kb] }); // OpenID4VP 1.0 §8.1
  const answered = await request('POST', responseUri, { headers: form, body: new URLSearchParams({ vp_token: vpToken, state }).toString() });
  if (answered.status !== 200) throw unexpected('response', answered);

  const redeemed = await request('POST', `${base}/presentations/result`, { headers: app, body: new URLSearchParams({ request_id: requestId }).toString() });
  if (redeemed.status !== 200) throw unexpected('result', redeemed);
  const result = JSON.parse(redeemed.body);
  if (result.claims?.age_over_21 !== true) throw wrong(`result claims ${JSON.stringify(result.claims)}`);
  return { walletLink, requestObject, header: decodeProtectedHeader(fetched.body), result };
}

if (generator.check) {
  const { walletLink, requestObject, header, result } = await verify(wallets[0]).catch((error) => fail(error.message));
  if (header.alg !== 'none' || header.typ !== 'oauth-authz-req+jwt') fail(`request object header ${JSON.stringify(header)}`);
  const linked = new URL(walletLink).searchParams.get('client_id');
  if (requestObject.client_id !== linked || linked !== `redirect_uri:${requestObject.response_uri}`) {
    fail(`client_id ${requestObject.client_id}, in the link ${linked}, response_uri ${requestObject.response_uri}`);
  }

  if (JSON.stringify(result.claims) !== '{"age_over_21":true}') fail(`result claims ${JSON.stringify(result.claims)}`);
  const discovery = await generator.json('GET', `${base}/.well-known/openid-configuration`);
  const { payload, protectedHeader } = await jwtVerify(result.token, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: discovery.issuer, audience: APP })
    .catch((error) => fail(`the result token does not verify against ${discovery.jwks_uri}: ${error.message}`));
  const extra = Object.keys(payload).filter((claim) => !REGISTERED.has(claim) && claim !== 'age_over_21');
  if (payload.age_over_21 !== true || extra.length > 0 || payload.sub !== result.sub) fail(`result token claims ${JSON.stringify(payload)}`);
  console.log(`check ${base}: one verification of over-21, request object alg none with client_id ${requestObject.client_id}, presentation of 2 disclosures, result token signed ${protectedHeader.alg} by a key of ${discovery.jwks_uri}, audience ${APP}, age_over_21 true and no other claim`);
}

await generator.run(wallets, verify, 'verifications');
