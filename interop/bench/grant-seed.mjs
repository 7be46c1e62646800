// The sign-ins bench/refresh.sh needs before its timer starts: for each virtual client, one whole sign-in at the
// server under test from a fresh browser, as an app does it with openid-client (lib/flows.mjs: authorization request
// with PKCE, state and nonce; the forms on the way; the code redeemed at /token), asking for offline_access so that a
// refresh token comes with it. What each client keeps: that refresh token (the head of its own rotation chain) and the
// browser's session cookie at the server (for the SSO sign-ins of the authorization-code load).
//
// - Tessera (`tessera`): a brokered sign-in through the connection bench-oidc to bench/upstream-idp.mjs (the interop
//   suite's upstream oidc-provider), whose login and consent forms the browser fills in; the upstream accounts
//   stm-1001 … in turn. Tessera's session cookie is kept.
// - oidc-provider (`peer`): its development login and consent, with prompt=consent, without which oidc-provider drops
//   offline_access; the same account ids. Its session cookie and that cookie's signature are kept; the consent leaves
//   a grant that later authorization requests of the client find, so they need no interaction.
//
// One more sign-in checks reuse detection, which both servers must do and the load never exercises: its refresh token
// is redeemed (200, a new one), redeemed again (refused, invalid_grant), and then the new one is presented (refused
// too: the family was revoked). That sign-in's tokens are not used afterwards.
//
//   BENCH_SECRET=... BENCH_REDIRECT_URI=... node bench/grant-seed.mjs tessera|peer BASE CLIENTS STATE-FILE   (from interop/)
//
// Writes STATE-FILE: { clients: [{ refreshToken, cookie }] }, read and updated by bench/grant-load.mjs. Exits 1 if a
// sign-in or the check fails.
import { writeFileSync } from 'node:fs';
import * as client from 'openid-client';
import { Browser } from '../lib/browser.mjs';
import { signIn } from '../lib/flows.mjs';
import { ACCOUNTS } from '../lib/upstream.mjs';

const [kind, base, clientsArg, stateFile] = process.argv.slice(2);
const { BENCH_SECRET: secret, BENCH_REDIRECT_URI: redirectUri } = process.env;
const CLIENT_ID = 'bench-app';
const SCOPE = 'openid offline_access write:orders';
/** Per server kind: what its authorization request adds, and the cookies that make its session. */
const KINDS = {
  tessera: { parameters: { connection: 'bench-oidc' }, cookies: ['tessera.session'] },
  peer: { parameters: { prompt: 'consent' }, cookies: ['_session', '_session.sig'] },
};

const fail = (message) => {
  console.error(`grant-seed ${base}: ${message}`);
  process.exit(1);
};
if (!KINDS[kind] || !base || !(Number(clientsArg) > 0) || !stateFile || !secret || !redirectUri) {
  fail('usage: BENCH_SECRET=... BENCH_REDIRECT_URI=... node bench/grant-seed.mjs tessera|peer BASE CLIENTS STATE-FILE');
}

const config = await client.discovery(new URL(base), CLIENT_ID, undefined, client.ClientSecretBasic(secret), {
  execute: [client.allowInsecureRequests], // http on loopback only
});
const tokenEndpoint = config.serverMetadata().token_endpoint;
const accounts = Object.keys(ACCOUNTS);

/** One sign-in from a fresh browser: the refresh token and the session cookie header. */
async function seed(index) {
  const browser = new Browser({ stopAt: [redirectUri] });
  const { tokens } = await signIn(browser, config, {
    redirectUri, scope: SCOPE, account: accounts[index % accounts.length], parameters: KINDS[kind].parameters,
  });
  if (typeof tokens.refresh_token !== 'string') throw new Error(`sign-in ${index} gave no refresh token (scope ${tokens.scope})`);
  const cookie = KINDS[kind].cookies.filter((name) => browser.cookie(name)).map((name) => `${name}=${browser.cookie(name)}`).join('; ');
  if (!cookie.startsWith(`${KINDS[kind].cookies[0]}=`)) throw new Error(`sign-in ${index} left no ${KINDS[kind].cookies[0]} cookie`);
  return { refreshToken: tokens.refresh_token, cookie };
}

/** POST /token grant_type=refresh_token as the load does it: { status, body } (JSON). */
async function refresh(refreshToken) {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, body: await response.json().catch(() => ({})) };
}

const started = performance.now();
const clients = [];
try {
  for (let i = 0; i < Number(clientsArg); i += 1) clients.push(await seed(i));
} catch (error) {
  fail(`signing in virtual client ${clients.length}: ${error.message}`);
}
const seconds = (performance.now() - started) / 1000;

// Reuse detection, on a sign-in of its own.
const { refreshToken: first } = await seed(Number(clientsArg)).catch((error) => fail(`the reuse check's sign-in: ${error.message}`));
const rotated = await refresh(first);
if (rotated.status !== 200 || typeof rotated.body.refresh_token !== 'string' || rotated.body.refresh_token === first) {
  fail(`the first refresh answered ${rotated.status} ${JSON.stringify(rotated.body).slice(0, 300)}, not a rotated refresh token`);
}
const reused = await refresh(first);
if (reused.status !== 400 || reused.body.error !== 'invalid_grant') fail(`the reused refresh token answered ${reused.status} ${JSON.stringify(reused.body)}, not invalid_grant`);
const successor = await refresh(rotated.body.refresh_token);
if (successor.status !== 400 || successor.body.error !== 'invalid_grant') {
  fail(`after the reuse, its rotated successor answered ${successor.status} ${JSON.stringify(successor.body).slice(0, 300)}: the family was not revoked`);
}

writeFileSync(stateFile, `${JSON.stringify({ clients }, null, 1)}\n`);
console.log(`seed ${base}: ${clients.length} sign-ins with offline_access in ${seconds.toFixed(1)} s (${kind === 'tessera' ? 'brokered to the upstream IdP' : 'development login and consent'}), `
  + `each a refresh token and a session cookie; reuse detection: a rotated refresh token presented again was refused (${reused.body.error}), `
  + `and then its successor too (${successor.body.error}: the family was revoked)`);
