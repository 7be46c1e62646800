// The load of credentials.sh: OpenID4VCI credential issuance by a bounded number of wallets, for a bounded time.
// Setup (not measured): the platform admin's token, a user provisioned over SCIM, a pre-authorized offer of the
// `employee` credential through the Admin API, and its access token (valid 5 minutes, so each run makes its own).
// Then CONCURRENCY wallets, each with its own ES256 key made by jose and keep-alive connections, repeat until
// DURATION seconds have passed: POST /credentials/nonce, sign a proof (openid4vci-proof+jwt, aud the credential
// issuer, the fresh c_nonce), POST /credentials/credential. One issuance is the pair; its latency is from the nonce
// request to the credential's last byte. With CHECK=1 the first credential is verified with jose against the keys
// of /.well-known/jwt-vc-issuer (typ dc+sd-jwt, iss, vct, cnf) before the load starts; a failed check exits 1.
// Prints one line: BENCH_RESULT credentials=N rps=X p50_us=.. p99_us=.. non2xx=.. connect=.. timeout=..
//
//   BENCH_SECRET=... BENCH_SCIM_TOKEN=... node credential-load.mjs http://127.0.0.1:5090 DURATION CONCURRENCY [CHECK]
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';

const [base, durationArg = '10', concurrencyArg = '16', check] = process.argv.slice(2);
const duration = Number(durationArg) * 1000;
const concurrency = Number(concurrencyArg);
const REQUEST_TIMEOUT_MS = 10_000;
const fail = (message) => {
  console.error(`credential-load ${base}: ${message}`);
  process.exit(1);
};

// Keep-alive connections, at most one per wallet: the pool a wallet backend would hold.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

/** One HTTP request on the keep-alive pool: { status, body } (body text); rejects on socket errors and timeouts. */
function request(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) }, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
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

// --- setup ----------------------------------------------------------------------------------------------------
const metadata = await json('GET', `${base}/.well-known/openid-credential-issuer`);
const admin = await json('POST', `${base}/token`, {
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`bench-admin:${process.env.BENCH_SECRET}`).toString('base64')}`,
  },
  body: 'grant_type=client_credentials&scope=tessera:admin',
});
const email = `wallet-${randomUUID()}@bench.example`;
const user = await json('POST', `${base}/scim/v2/bench-org/Users`, {
  headers: { 'content-type': 'application/scim+json', authorization: `Bearer ${process.env.BENCH_SCIM_TOKEN}` },
  body: JSON.stringify({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, active: true, title: 'Charge nurse',
    name: { givenName: 'Ana', familyName: 'Lima' }, emails: [{ value: email, primary: true }],
  }),
});
const offer = await json('POST', `${base}/admin/v1/users/${user.id}/credential-offers`, {
  headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.access_token}` },
  body: JSON.stringify({ credential: 'employee', tx_code: false }),
});
const grant = offer.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'];
const token = await json('POST', `${base}/credentials/token`, {
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code', 'pre-authorized_code': grant['pre-authorized_code'] }).toString(),
});

const wallets = await Promise.all(Array.from({ length: concurrency }, async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: await exportJWK(publicKey) };
}));

/** One issuance: a fresh nonce, a proof over it, the credential. Answers the credential, or throws with a status. */
async function issue(wallet) {
  const nonce = await request('POST', metadata.nonce_endpoint);
  if (nonce.status !== 200) throw Object.assign(new Error(`nonce ${nonce.status}`), { status: nonce.status });
  const proof = await new SignJWT({ aud: metadata.credential_issuer, nonce: JSON.parse(nonce.body).c_nonce })
    .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: wallet.jwk })
    .setIssuedAt()
    .sign(wallet.privateKey);
  const response = await request('POST', metadata.credential_endpoint, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
    body: JSON.stringify({ credential_configuration_id: 'employee', proofs: { jwt: [proof] } }),
  });
  if (response.status !== 200) throw Object.assign(new Error(`credential ${response.status}: ${response.body.slice(0, 200)}`), { status: response.status });
  return JSON.parse(response.body).credentials[0].credential;
}

if (check) {
  const credential = await issue(wallets[0]).catch((error) => fail(error.message));
  const issuerMetadata = await json('GET', `${new URL(metadata.credential_issuer).origin}/.well-known/jwt-vc-issuer`);
  const jws = credential.split('~')[0];
  const { protectedHeader } = await compactVerify(jws, createLocalJWKSet(issuerMetadata.jwks), { algorithms: ['ES256', 'RS256'] })
    .catch((error) => fail(`the credential does not verify against /.well-known/jwt-vc-issuer: ${error.message}`));
  const payload = decodeJwt(jws);
  if (protectedHeader.typ !== 'dc+sd-jwt') fail(`typ ${protectedHeader.typ}`);
  if (payload.iss !== metadata.credential_issuer || payload.vct !== metadata.credential_configurations_supported.employee.vct) fail(`iss ${payload.iss}, vct ${payload.vct}`);
  if (await calculateJwkThumbprint(payload.cnf.jwk) !== await calculateJwkThumbprint(wallets[0].jwk)) fail('cnf is not the holder key');
  const disclosures = credential.split('~').slice(1, -1).length;
  console.log(`check ${base}: one employee credential, ${credential.length} bytes, ${disclosures} disclosures, typ dc+sd-jwt, iss ${payload.iss}, signed ${protectedHeader.alg} by a key of /.well-known/jwt-vc-issuer, cnf the holder's key`);
}

// --- load -----------------------------------------------------------------------------------------------------
const latencies = [];
const errors = { non2xx: 0, connect: 0, timeout: 0 };
const started = performance.now();
const deadline = started + duration;
await Promise.all(wallets.map(async (wallet) => {
  while (performance.now() < deadline) {
    const t0 = performance.now();
    try {
      await issue(wallet);
      latencies.push(performance.now() - t0);
    } catch (error) {
      if (error.status) errors.non2xx += 1;
      else if (error.code === 'ETIMEDOUT') errors.timeout += 1;
      else errors.connect += 1;
      if (errors.non2xx + errors.connect + errors.timeout <= 3) console.error(`credential-load: ${error.message}`);
    }
  }
}));
const elapsed = (performance.now() - started) / 1000;
agent.destroy();

latencies.sort((a, b) => a - b);
const percentile = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] * 1000 : 0);
console.log(`BENCH_RESULT credentials=${latencies.length} rps=${(latencies.length / elapsed).toFixed(1)} p50_us=${percentile(0.5).toFixed(0)} p99_us=${percentile(0.99).toFixed(0)} non2xx=${errors.non2xx} connect=${errors.connect} timeout=${errors.timeout}`);
