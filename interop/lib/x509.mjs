// Self-signed X.509 certificates for test keys, written as DER by hand (RFC 5280 §4.1; X.690 DER) so that the
// suite needs neither openssl nor a certificate package: an RSA key pair, a CN, a validity window, signed with
// sha256WithRSAEncryption by its own key. Enough for SAML metadata and for Tessera's SP key (X509Certificate2).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const COMMON_NAME = '2.5.4.3';
const BASIC_CONSTRAINTS = '2.5.29.19';

/**
 * A new RSA key pair and a self-signed certificate for it. Returns the PEMs, the certificate's base64 DER (the text
 * of a ds:X509Certificate) and the node:crypto private key.
 */
export function selfSignedRsa({ commonName, days = 365, modulusLength = 2048 }) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const certificate = selfSigned({ privateKey, spki: publicKey.export({ type: 'spki', format: 'der' }), commonName, days });
  return {
    privateKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    certificatePem: pem('CERTIFICATE', certificate),
    certificateBase64: certificate.toString('base64'),
  };
}

/** The DER certificate for spki (SubjectPublicKeyInfo DER), issued by and to CN=commonName, signed by privateKey. */
export function selfSigned({ privateKey, spki, commonName, days }) {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const algorithm = sequence(oid(SHA256_WITH_RSA), Buffer.from([0x05, 0x00])); // parameters NULL (RFC 4055 §5)
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8String(commonName))));
  const notBefore = new Date(Date.now() - 60 * 60 * 1000); // an hour back: no clock in the room is exactly in step
  const notAfter = new Date(notBefore.getTime() + days * 24 * 60 * 60 * 1000);
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01; // positive and non-zero, at most 20 octets (RFC 5280 §4.1.2.2)

  const tbs = sequence(
    explicit(0, integer(Buffer.from([0x02]))), // v3
    integer(serial),
    algorithm,
    name, // issuer
    sequence(time(notBefore), time(notAfter)),
    name, // subject
    spki,
    explicit(3, sequence(sequence(oid(BASIC_CONSTRAINTS), octetString(sequence())))), // cA FALSE: an end-entity key
  );

  return sequence(tbs, algorithm, bitString(sign('sha256', tbs, key)));
}

export function pem(label, der) {
  const lines = der.toString('base64').match(/.{1,64}/g).join('\n');
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

function tlv(tag, ...contents) {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodedLength(body.length), body]);
}

function encodedLength(length) {
  if (length < 0x80) return Buffer.from([length]);
  const octets = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

const sequence = (...contents) => tlv(0x30, ...contents);
const set = (...contents) => tlv(0x31, ...contents);
const explicit = (number, content) => tlv(0xa0 | number, content);
const octetString = (content) => tlv(0x04, content);
const bitString = (content) => tlv(0x03, Buffer.from([0x00]), content); // no unused bits
const utf8String = (text) => tlv(0x0c, Buffer.from(text, 'utf8'));

/** A non-negative INTEGER from big-endian octets: minimal, with a leading zero when the top bit is set. */
function integer(octets) {
  let start = 0;
  while (start < octets.length - 1 && octets[start] === 0 && !(octets[start + 1] & 0x80)) start += 1;
  const minimal = octets.subarray(start);
  return tlv(0x02, minimal[0] & 0x80 ? Buffer.concat([Buffer.from([0x00]), minimal]) : minimal);
}

function oid(dotted) {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const octets = [40 * first + second];
  for (const arc of rest) {
    const base128 = [];
    for (let n = arc; ; n = Math.floor(n / 128)) {
      base128.unshift((n % 128) | (base128.length ? 0x80 : 0));
      if (n < 128) break;
    }

    octets.push(...base128);
  }

  return tlv(0x06, Buffer.from(octets));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), to the second, in UTC. */
function time(date) {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}
