// The load of credentials.sh: OpenID4VCI credential issuance by a bounded number of wallets, for a bounded time.
// Setup (not measured): the platform admin's token, a user provisioned over SCIM, a pre-authorized offer of the
// `employee` credential through the Admin API, and its access token (valid 5 minutes, so each run makes its own).
// Then CONCURRENCY wallets, each with its own ES256 key made by jose and keep-alive connections, repeat until
// DURATION seconds have passed: POST /credentials/nonce, sign a proof (openid4vci-proof+jwt, aud the credential
// issuer, the fresh c_nonce), POST /credentials/credential. One issuance is the pair; its latency is from the nonce
// request to the credential's last byte. With CHECK=1 the first credential is verified with jose against the keys
// of /.well-known/jwt-vc-issuer (typ dc+sd-jwt, iss, vct, cnf) before the load starts; a failed check exits 1.
// Prints one line: BENCH_RESULT credentials=N rps=X p50_us=.. p99_us=.. non2xx=.. wrong=.. connect=.. timeout=..
//
//   BENCH_SECRET=... BENCH_SCIM_TOKEN=... node credential-load.mjs http://127.0.0.1:5090 DURATION CONCURRENCY [CHECK]
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeJwt } from 'jose';
import { holders, issue, loadGenerator, preAuthorized } from './wallet-lib.mjs';

const generator = loadGenerator('credential-load');
const { base, fail } = generator;
const issuer = await preAuthorized(generator, 'employee', { title: 'Charge nurse' });
const { metadata } = issuer;
const wallets = await holders(generator.concurrency);

if (generator.check) {
  const credential = await issue(generator, issuer, wallets[0], 'employee').catch((error) => fail(error.message));
  const issuerMetadata = await generator.json('GET', `${new URL(metadata.credential_issuer).origin}/.well-known/jwt-vc-issuer`);
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

await generator.run(wallets, (wallet) => issue(generator, issuer, wallet, 'employee'), 'credentials');
