// The peers of area 21, each on its own code and never on Tessera's: an OpenID4VCI 1.0 wallet
// (@openid4vc/openid4vci, its callbacks on jose and node:crypto) holding an ES256 key that jose made, and a strict
// SD-JWT VC verifier (@sd-jwt/sd-jwt-vc) that finds the issuer's keys by itself from the credential's `iss` through
// the JWT VC issuer metadata, and checks status through the library's status-list support.
import { createHash, randomBytes } from 'node:crypto';
import { Openid4vciClient, setGlobalConfig } from '@openid4vc/openid4vci';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import * as jose from 'jose';

// http on 127.0.0.1 only: this suite never leaves loopback, and the library otherwise insists on https.
setGlobalConfig({ allowInsecureUrls: true });

export const SD_JWT_VC_TYPE = 'dc+sd-jwt';
export const STATUS_LIST_TYPE = 'statuslist+jwt';
export const PROOF_TYPE = 'openid4vci-proof+jwt';
/** What Tessera may sign credentials with (docs/credentials.md); a peer accepts nothing weaker and never `none`. */
const ISSUER_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256'];
const FETCH_TIMEOUT_MS = 10_000;

/**
 * A well-known URL made from an identifier the way OpenID4VCI 1.0 §12.2.2 (openid-credential-issuer), RFC 8414 §3.1
 * (oauth-authorization-server) and draft-ietf-oauth-sd-jwt-vc §5 (jwt-vc-issuer) say: the well-known path goes
 * between the host and the identifier's path, a terminating "/" of the path removed first. Query and fragment are
 * refused, as no issuer identifier has them.
 */
export function wellKnownUrl(identifier, name) {
  const url = new URL(identifier);
  if (url.search || url.hash) throw new Error(`an issuer identifier has no query or fragment: ${identifier}`);
  return `${url.origin}/.well-known/${name}${url.pathname.replace(/\/$/, '')}`;
}

/** GET a JSON document, refusing anything but 200 application/json. */
export async function fetchJson(url) {
  const response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  if (!/^application\/json\b/.test(response.headers.get('content-type') ?? '')) {
    throw new Error(`GET ${url} answered ${response.headers.get('content-type')}, not application/json`);
  }

  return JSON.parse(text);
}

/** A holder: an ES256 key pair that jose made, and its public JWK (what must come back as `cnf.jwk`). */
export async function holderKey() {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  return { privateKey, publicKey, publicJwk, thumbprint: await jose.calculateJwkThumbprint(publicJwk) };
}

/**
 * RFC 8414 §2: a `{endpoint}_auth_methods_supported` that lists private_key_jwt or client_secret_jwt needs its
 * `{endpoint}_auth_signing_alg_values_supported`. Answers the members that break the rule (empty when none does).
 */
export function rfc8414AuthMethodViolations(metadata) {
  return ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint'].filter((endpoint) =>
    (metadata[`${endpoint}_auth_methods_supported`] ?? []).some((m) => m === 'private_key_jwt' || m === 'client_secret_jwt')
    && !Array.isArray(metadata[`${endpoint}_auth_signing_alg_values_supported`]))
    .map((endpoint) => `${endpoint}_auth_methods_supported`);
}

/**
 * An OpenID4VCI 1.0 wallet: @openid4vc/openid4vci's client, whose JWTs (proofs) are signed by jose with the holder's
 * key. No client authentication: Tessera's pre-authorized grant is anonymous, and the authorization code flow's
 * token request is openid-client's.
 * The library validates every authorization server's RFC 8414 metadata as it reads it.
 */
export function wallet(holder) {
  return new Openid4vciClient({
    callbacks: {
      fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }),
      hash: (data, alg) => createHash(hashName(alg)).update(data).digest(),
      generateRandom: (length) => randomBytes(length),
      clientAuthentication: () => {},
      async signJwt(signer, { header, payload }) {
        if (signer.method !== 'jwk') throw new Error(`this wallet signs with its jwk only, not ${signer.method}`);
        const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(holder.privateKey);
        return { jwt, signerJwk: holder.publicJwk };
      },
    },
  });
}

function hashName(alg) {
  const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[String(alg).toLowerCase()];
  if (!name) throw new Error(`unsupported hash ${alg}`);
  return name;
}

/** A proof of possession signed by jose by hand, for the refusals: every claim and header as the test says. */
export async function handmadeProof(holder, { aud, nonce, iat = Math.floor(Date.now() / 1000), typ = PROOF_TYPE }) {
  return new jose.SignJWT({ aud, nonce, iat })
    .setProtectedHeader({ alg: 'ES256', typ, jwk: holder.publicJwk })
    .sign(holder.privateKey);
}

/**
 * The issuer's keys as a peer finds them: from `iss` alone, through the JWT VC issuer metadata at the URL the
 * SD-JWT VC draft derives from it (§5), whose `issuer` must be `iss` exactly and whose keys must be inline.
 */
export async function jwtVcIssuerKeys(iss) {
  const url = wellKnownUrl(iss, 'jwt-vc-issuer');
  const metadata = await fetchJson(url);
  if (metadata.issuer !== iss) throw new Error(`${url} names the issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(iss)}`);
  if (!Array.isArray(metadata.jwks?.keys) || metadata.jwks.keys.length === 0) throw new Error(`${url} has no inline jwks`);
  for (const key of metadata.jwks.keys) {
    if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => member in key)) throw new Error(`${url} publishes private key material`);
  }

  return { url, metadata, keys: jose.createLocalJWKSet(metadata.jwks) };
}

/** A compact JWS signature check with jose against a key set, the algorithms limited to the asymmetric ones. */
async function verifiesWith(keys, data, signature) {
  try {
    await jose.compactVerify(`${data}.${signature}`, keys, { algorithms: ISSUER_ALGORITHMS });
    return true;
  } catch {
    return false;
  }
}

/**
 * A strict SD-JWT VC verifier for one credential: @sd-jwt/sd-jwt-vc with
 * - the issuer's signature checked against the keys resolved from the credential's own `iss` (jwtVcIssuerKeys);
 * - a key-binding JWT, when one is asked for, checked against the credential's `cnf.jwk`;
 * - the status list fetched from the URI the credential names, checked to be a `statuslist+jwt` whose `sub` is that
 *   URI and whose `iss` is the credential's, signed by the same issuer keys; any status but 0 (valid) is refused.
 * Answers { verify(compact, options), decode(compact), issuerKeys, statusLists } (statusLists: every list fetched).
 */
export async function strictVerifier(credential) {
  const unverified = jose.decodeJwt(credential.split('~')[0]);
  if (typeof unverified.iss !== 'string') throw new Error('the credential has no iss');
  const issuerKeys = await jwtVcIssuerKeys(unverified.iss);
  const statusLists = [];
  const sdjwt = new SDJwtVcInstance({
    hasher: sha,
    verifier: (data, signature) => verifiesWith(issuerKeys.keys, data, signature),
    statusVerifier: (data, signature) => verifiesWith(issuerKeys.keys, data, signature),
    async kbVerifier(data, signature, payload) {
      if (!payload?.cnf?.jwk) return false;
      const key = await jose.importJWK(payload.cnf.jwk, 'ES256');
      try {
        const { protectedHeader } = await jose.compactVerify(`${data}.${signature}`, key, { algorithms: ['ES256'] });
        return protectedHeader.typ === 'kb+jwt';
      } catch {
        return false;
      }
    },
    async statusListFetcher(uri) {
      const response = await fetch(uri, { headers: { accept: 'application/statuslist+jwt' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      const token = await response.text();
      if (response.status !== 200) throw new Error(`status list ${uri} answered ${response.status}`);
      if (!/^application\/statuslist\+jwt\b/.test(response.headers.get('content-type') ?? '')) {
        throw new Error(`status list ${uri} came as ${response.headers.get('content-type')}`);
      }

      // draft-ietf-oauth-status-list §5.1 and §8.3: typ, sub equal to the URI fetched, iss the credential's.
      const { payload, protectedHeader } = await jose.jwtVerify(token, issuerKeys.keys, {
        typ: STATUS_LIST_TYPE, algorithms: ISSUER_ALGORITHMS, subject: uri, issuer: unverified.iss,
      });
      statusLists.push({ uri, header: protectedHeader, payload });
      return token;
    },
  });

  return {
    issuerKeys,
    statusLists,
    decode: (compact) => sdjwt.decode(compact),
    async verify(compact, options = {}) {
      const result = await sdjwt.verify(compact, options);
      // draft-ietf-oauth-sd-jwt-vc §3.2.1: the issuer-signed JWT's typ; the library leaves that to its caller.
      if (result.header?.typ !== SD_JWT_VC_TYPE) throw new Error(`typ is ${result.header?.typ}, not ${SD_JWT_VC_TYPE}`);
      return result;
    },
    /**
     * The holder's side, by the same library: a presentation of `compact` with only the disclosures `frame` names
     * (e.g. { age_equal_or_over: { 21: true } }) and a KB-JWT for `aud` and `nonce`, signed with the holder's key.
     */
    present,
  };
}

const sha = (data, alg) => createHash(hashName(alg)).update(typeof data === 'string' ? data : Buffer.from(data)).digest();
// The JWS signature of an ES256 JWT is r || s, which is what WebCrypto's ECDSA answers.
const es256Signer = (privateKey) => async (data) =>
  Buffer.from(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(data))).toString('base64url');

/**
 * The holder's side, by @sd-jwt/sd-jwt-vc: a presentation of `compact` with only the disclosures `frame` names (e.g.
 * { age_equal_or_over: { 21: true } }) and a KB-JWT for `aud` and `nonce`, signed with the holder's key.
 */
export function present(compact, frame, holder, { aud, nonce }) {
  return new SDJwtVcInstance({ hasher: sha, kbSignAlg: 'ES256', kbSigner: es256Signer(holder.privateKey) })
    .present(compact, frame, { kb: { payload: { aud, nonce, iat: Math.floor(Date.now() / 1000) } } });
}

/**
 * Another credential issuer, all on @sd-jwt/sd-jwt-vc and jose: an ES256 key of its own (`jwks` is its public key set,
 * for Tessera's TrustedCredentialIssuers) and `issue(payload, disclosureFrame)`, an SD-JWT VC with `typ: dc+sd-jwt`.
 */
export async function peerIssuer(issuer) {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid: 'peer-1', alg: 'ES256', use: 'sig' };
  const sdjwt = new SDJwtVcInstance({
    hasher: sha,
    saltGenerator: () => randomBytes(16).toString('base64url'),
    signAlg: 'ES256',
    signer: es256Signer(privateKey),
  });
  return {
    issuer,
    jwks: { keys: [publicJwk] },
    issue: (payload, disclosureFrame) => sdjwt.issue({ iss: issuer, iat: Math.floor(Date.now() / 1000), ...payload }, disclosureFrame, {
      header: { typ: SD_JWT_VC_TYPE, kid: publicJwk.kid },
    }),
  };
}
