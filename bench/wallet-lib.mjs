// What the wallet load generators share (credential-load.mjs, presentation-load.mjs): the command line, keep-alive
// HTTP, the set-up every run needs (the platform admin's token, a user provisioned over SCIM, a pre-authorized offer
// and its access token, ES256 holder keys, an issuance), and the timed loop with its one-line result. grant-load.mjs
// (refresh.sh) uses the command line, the HTTP and the loop.
//
//   BENCH_SECRET=... BENCH_SCIM_TOKEN=... node <generator>.mjs http://127.0.0.1:5090 DURATION CONCURRENCY [CHECK]
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * One generator's command line and HTTP: `base`, `duration` (ms), `concurrency`, `check`, `fail(message)` (prints it
 * and exits 1), `request`, `json` (a 2xx JSON answer, else fail), `basic(clientId)` (an Authorization header with
 * BENCH_SECRET), and `run(wallets, once, noun)`, the timed loop.
 */
export function loadGenerator(name) {
  const [base, durationArg = '10', concurrencyArg = '16', check] = process.argv.slice(2);
  const concurrency = Number(concurrencyArg);
  const fail = (message) => {
    console.error(`${name} ${base}: ${message}`);
    process.exit(1);
  };

  // Keep-alive connections, at most one per wallet: the pool a wallet backend would hold.
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

  /** One HTTP request on the keep-alive pool: { status, body, headers } (body text); rejects on socket errors and timeouts. */
  function request(method, url, { headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }

  async function json(method, url, options) {
    const response = await request(method, url, options);
    if (response.status < 200 || response.status > 299) fail(`${method} ${url} answered ${response.status}: ${response.body.slice(0, 300)}`);
    return JSON.parse(response.body);
  }

  /**
   * Runs `once(wallet)` in a loop for every wallet at the same time until the duration is up; an answer that throws
   * is counted as an error: non2xx when it carries a status, wrong when it is marked so (a 2xx answer that says the
   * wrong thing), timeout, else connect. An error marked `retire` also ends that wallet's loop (it cannot go on, as a
   * client whose refresh token chain broke). Prints one line:
   * BENCH_RESULT <noun>=N rps=X p50_us=.. p99_us=.. non2xx=.. wrong=.. connect=.. timeout=..
   */
  async function run(wallets, once, noun) {
    const latencies = [];
    const errors = { non2xx: 0, wrong: 0, connect: 0, timeout: 0 };
    const started = performance.now();
    const deadline = started + Number(durationArg) * 1000;
    await Promise.all(wallets.map(async (wallet) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await once(wallet);
          latencies.push(performance.now() - t0);
        } catch (error) {
          if (error.status) errors.non2xx += 1;
          else if (error.wrong) errors.wrong += 1;
          else if (error.code === 'ETIMEDOUT') errors.timeout += 1;
          else errors.connect += 1;
          if (Object.values(errors).reduce((a, b) => a + b) <= 3) console.error(`${name}: ${error.message}`);
          if (error.retire) break;
        }
      }
    }));
    const elapsed = (performance.now() - started) / 1000;
    agent.destroy();

    latencies.sort((a, b) => a - b);
    const percentile = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] * 1000 : 0);
    console.log(`BENCH_RESULT ${noun}=${latencies.length} rps=${(latencies.length / elapsed).toFixed(1)} p50_us=${percentile(0.5).toFixed(0)} p99_us=${percentile(0.99).toFixed(0)} non2xx=${errors.non2xx} wrong=${errors.wrong} connect=${errors.connect} timeout=${errors.timeout}`);
  }

  const basic = (clientId) => `Basic ${Buffer.from(`${clientId}:${process.env.BENCH_SECRET}`).toString('base64')}`;
  return { base, concurrency, check, fail, request, json, basic, run };
}

/** An answer with another status than the one expected, as the loop counts it (non2xx). */
export function unexpected(step, response) {
  return Object.assign(new Error(`${step} ${response.status}: ${response.body.slice(0, 200)}`), { status: response.status });
}

/** A 2xx answer that says the wrong thing, as the loop counts it (wrong). */
export function wrong(message) {
  return Object.assign(new Error(message), { wrong: true });
}

/**
 * The set-up a run needs before it can issue: the issuer metadata, a user of bench-org provisioned over SCIM with
 * `attributes` besides its name and email, a pre-authorized offer of `credential` to that user through the Admin API
 * (as the platform admin, bench-admin), and the offer redeemed: { metadata, user, accessToken }. The access token is
 * valid 5 minutes, so each run makes its own.
 */
export async function preAuthorized({ base, json, basic }, credential, attributes = {}) {
  const metadata = await json('GET', `${base}/.well-known/openid-credential-issuer`);
  const admin = await json('POST', `${base}/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('bench-admin') },
    body: 'grant_type=client_credentials&scope=tessera:admin',
  });
  const email = `wallet-${randomUUID()}@bench.example`;
  const user = await json('POST', `${base}/scim/v2/bench-org/Users`, {
    headers: { 'content-type': 'application/scim+json', authorization: `Bearer ${process.env.BENCH_SCIM_TOKEN}` },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, active: true,
      name: { givenName: 'Ana', familyName: 'Lima' }, emails: [{ value: email, primary: true }], ...attributes,
    }),
  });
  const offer = await json('POST', `${base}/admin/v1/users/${user.id}/credential-offers`, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.access_token}` },
    body: JSON.stringify({ credential, tx_code: false }),
  });
  const grant = offer.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'];
  const token = await json('POST', `${base}/credentials/token`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': grant['pre-authorized_code'] }).toString(),
  });
  return { metadata, user, accessToken: token.access_token };
}

/** `count` holders, each with its own ES256 key made by jose: { privateKey, jwk }. */
export function holders(count) {
  return Promise.all(Array.from({ length: count }, async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return { privateKey, jwk: await exportJWK(publicKey) };
  }));
}

/**
 * One issuance (OpenID4VCI 1.0): a fresh nonce, a proof over it signed by the holder, the credential. Answers the
 * credential, or throws with the status.
 */
export async function issue({ request }, { metadata, accessToken }, holder, configuration) {
  const nonce = await request('POST', metadata.nonce_endpoint);
  if (nonce.status !== 200) throw unexpected('nonce', nonce);
  const proof = await new SignJWT({ aud: metadata.credential_issuer, nonce: JSON.parse(nonce.body).c_nonce })
    .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: holder.jwk })
    .setIssuedAt()
    .sign(holder.privateKey);
  const response = await request('POST', metadata.credential_endpoint, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ credential_configuration_id: configuration, proofs: { jwt: [proof] } }),
  });
  if (response.status !== 200) throw unexpected('credential', response);
  return JSON.parse(response.body).credentials[0].credential;
}
