// An independent SAML 2.0 identity provider for St Mary's SAML connections, in this process: its own RSA key and
// self-signed certificate, metadata that asks for signed AuthnRequests, an HTTP-Redirect single sign-on service that
// verifies Tessera's AuthnRequest against the certificate in Tessera's SP metadata, and an HTTP-POST answer (an
// auto-submitting form) whose Response is signed with xml-crypto and, in the encrypted modes, encrypted with
// xml-encryption to the SP's encryption certificate. Nobody logs in: every accepted request signs in SAML_USER, or
// the user the test chose.
import { createPublicKey, randomBytes, randomUUID, sign, verify, X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import { inflateRawSync } from 'node:zlib';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import { selfSignedRsa } from './x509.mjs';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
};

export const BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
};

const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXCLUSIVE_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const AES256_GCM = 'http://www.w3.org/2009/xmlenc11#aes256-gcm';
const RSA_OAEP_MGF1P = 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p';

/** Query-string signature algorithms this IdP accepts (Bindings §3.4.4.1), by SigAlg URI. */
const REDIRECT_SIGNATURE_HASHES = {
  [RSA_SHA256]: 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': 'sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': 'sha512',
};

/**
 * How the Response is protected. 'assertion': the assertion is signed, the Response is not. 'response': only the
 * Response is signed. 'both': the signed assertion inside a signed Response. 'encrypted': the signed assertion,
 * encrypted (AES-256-GCM, RSA-OAEP key transport) with the EncryptedKey inside EncryptedData's KeyInfo;
 * 'encrypted-sibling': the same with the EncryptedKey next to the EncryptedData (SAML Core §2.3.4).
 */
export const MODES = ['assertion', 'response', 'both', 'encrypted', 'encrypted-sibling'];

/**
 * The person this IdP signs in unless a test says otherwise. The NameID is an opaque persistent identifier,
 * deliberately not the email. A user may give nameIdXml instead: the NameID's content as XML (comments, say).
 */
export const SAML_USER = {
  nameId: 'stm-saml-6f1e9a3c-carol',
  attributes: {
    Role: ['doctor'],
    ProviderID: ['P-123'],
    email: ['carol@stmarys.example'],
    givenName: ['Carol'],
    surname: ['Chen'],
  },
};

/**
 * Starts the IdP on 127.0.0.1:port. serviceProviders are the metadata URLs of the SPs it serves (read on first use,
 * so the SP may start later); addServiceProvider() trusts one more. Returns its entity id, SSO URL, metadata,
 * certificate (what an admin pastes into Tessera), wrongCertificatePem() (what an admin pastes by mistake), counters,
 * the AuthnRequests it accepted, the problems it refused, respondWith() to choose how the next Responses look, and
 * close().
 */
export async function startSamlIdp({ port, serviceProviders, user = SAML_USER }) {
  const origin = `http://127.0.0.1:${port}`;
  const entityId = `${origin}/idp`;
  const ssoUrl = `${origin}/sso`;
  const key = selfSignedRsa({ commonName: "St Mary's SAML IdP (interop)" });
  const metadataXml = identityProviderMetadata({ entityId, ssoUrl, certificate: key.certificateBase64 });

  const counts = { metadata: 0, sso: 0, responses: 0 };
  const errors = [];
  const requests = [];
  const issued = [];
  const spRegistry = new ServiceProviderRegistry(serviceProviders);
  let wrongCertificate;
  let behaviour = { mode: 'assertion', tamper: null, user, inclusiveNamespaces: [], asXmlCryptoWritesIt: false };

  const server = createServer((req, res) => {
    const url = new URL(req.url, origin);
    if (req.method === 'GET' && url.pathname === '/metadata') {
      counts.metadata += 1;
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(metadataXml);
      return;
    }

    if (req.method === 'GET' && url.pathname === '/sso') {
      counts.sso += 1;
      singleSignOn(url).then(
        (page) => { counts.responses += 1; res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page); },
        (error) => {
          errors.push(error.message);
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`SAML IdP refused the request: ${error.message}`);
        },
      );
      return;
    }

    res.writeHead(404).end();
  });

  async function singleSignOn(url) {
    const request = await acceptAuthnRequest(url, { ssoUrl, registry: spRegistry });
    requests.push(request);
    const sp = request.serviceProvider;
    const { mode, inclusiveNamespaces, asXmlCryptoWritesIt } = behaviour;
    let xml = await buildResponse({ request, sp, idp: { entityId, key }, user: behaviour.user, mode, inclusiveNamespaces, asXmlCryptoWritesIt });
    if (behaviour.tamper) xml = behaviour.tamper(xml);
    issued.push({ mode: behaviour.mode, tampered: Boolean(behaviour.tamper), requestId: request.id, xml });
    return autoPostPage(sp.acsUrl, Buffer.from(xml, 'utf8').toString('base64'), request.relayState);
  }

  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  return {
    origin,
    entityId,
    ssoUrl,
    metadataUrl: `${origin}/metadata`,
    metadataXml,
    certificatePem: key.certificatePem,
    certificateBase64: key.certificateBase64,
    /**
     * Another valid self-signed certificate with this IdP's subject, of a key that signs nothing here: the certificate
     * an admin pastes by mistake (an old one, another IdP's). The same one on every call.
     */
    wrongCertificatePem() {
      wrongCertificate ??= selfSignedRsa({ commonName: "St Mary's SAML IdP (interop)" }).certificatePem;
      return wrongCertificate;
    },
    /**
     * Trusts one more SP from now on, by its metadata URL (a connection made later, `/saml/{connectionId}/metadata`),
     * as an IdP admin does when pasting it; read when its first AuthnRequest arrives.
     */
    addServiceProvider(metadataUrl) {
      spRegistry.add(new URL(metadataUrl).href);
    },
    counts,
    errors,
    /** The AuthnRequests accepted so far, oldest first (parsed fields and the raw query). */
    requests,
    /** The Responses sent so far, oldest first: { mode, tampered, requestId, xml }. */
    issued,
    /**
     * How the Responses from now on are made: a mode from MODES; optionally tamper(xml) applied after signing, another
     * user, and prefixes for the InclusiveNamespaces PrefixList of the signatures' exclusive c14n (as Shibboleth signs).
     */
    respondWith({ mode = 'assertion', tamper = null, user: other = user, inclusiveNamespaces = [], asXmlCryptoWritesIt = false } = {}) {
      if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
      behaviour = { mode, tamper, user: other, inclusiveNamespaces, asXmlCryptoWritesIt };
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

function identityProviderMetadata({ entityId, ssoUrl, certificate }) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="${NS.metadata}" xmlns:ds="${NS.dsig}" entityID="${escapeXml(entityId)}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="${NS.protocol}">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>${PERSISTENT}</md:NameIDFormat>
    <md:SingleSignOnService Binding="${BINDING.redirect}" Location="${escapeXml(ssoUrl)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}

/**
 * The SPs this IdP serves, read from their metadata URLs; read again when a request names an unknown SP. An SP whose
 * metadata cannot be read (a connection deleted since, one not made yet) does not keep the others from being found.
 */
class ServiceProviderRegistry {
  #urls;
  #byEntityId = new Map();

  constructor(urls) {
    this.#urls = [...urls];
  }

  add(url) {
    if (!this.#urls.includes(url)) this.#urls.push(url);
  }

  async find(entityId) {
    let unread = [];
    if (!this.#byEntityId.has(entityId)) unread = await this.#refresh();
    const sp = this.#byEntityId.get(entityId);
    if (!sp) throw new Error(`no trusted service provider has the entity id ${entityId}${unread.length ? ` (${unread.join('; ')})` : ''}`);
    return sp;
  }

  /** Reads every SP's metadata again; returns what could not be read. */
  async #refresh() {
    const unread = [];
    for (const url of this.#urls) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        if (!response.ok) throw new Error(`answered ${response.status}`);
        const sp = readServiceProviderMetadata(await response.text());
        this.#byEntityId.set(sp.entityId, { ...sp, metadataUrl: url });
      } catch (error) {
        unread.push(`SP metadata at ${url}: ${error.message}`);
      }
    }

    return unread;
  }
}

/**
 * Reads SP metadata (SAML Metadata §2.4.4): entity id, AuthnRequestsSigned / WantAssertionsSigned, the signing and
 * encryption certificates (a KeyDescriptor without use serves both), and the HTTP-POST assertion consumer service.
 */
export function readServiceProviderMetadata(xml) {
  const root = parseXml(xml).documentElement;
  if (root.namespaceURI !== NS.metadata || root.localName !== 'EntityDescriptor') throw new Error('SP metadata: the root is not an md:EntityDescriptor');
  const descriptor = children(root, NS.metadata, 'SPSSODescriptor')[0];
  if (!descriptor) throw new Error('SP metadata: no SPSSODescriptor');
  if (!descriptor.getAttribute('protocolSupportEnumeration').split(/\s+/).includes(NS.protocol)) {
    throw new Error('SP metadata: the SPSSODescriptor does not support SAML 2.0');
  }

  const certificates = { signing: [], encryption: [] };
  const encryptionMethods = [];
  for (const keyDescriptor of children(descriptor, NS.metadata, 'KeyDescriptor')) {
    const use = keyDescriptor.getAttribute('use') || '';
    const found = [...keyDescriptor.getElementsByTagNameNS(NS.dsig, 'X509Certificate')].map((c) => c.textContent.replace(/\s+/g, ''));
    if (use === '' || use === 'signing') certificates.signing.push(...found);
    if (use === '' || use === 'encryption') {
      certificates.encryption.push(...found);
      encryptionMethods.push(...children(keyDescriptor, NS.metadata, 'EncryptionMethod').map((m) => m.getAttribute('Algorithm')));
    }
  }

  const acs = children(descriptor, NS.metadata, 'AssertionConsumerService').map((service) => ({
    binding: service.getAttribute('Binding'),
    location: service.getAttribute('Location'),
    index: service.getAttribute('index'),
    isDefault: service.getAttribute('isDefault') === 'true',
  }));
  const post = acs.find((service) => service.binding === BINDING.post);
  return {
    entityId: root.getAttribute('entityID'),
    authnRequestsSigned: descriptor.getAttribute('AuthnRequestsSigned') === 'true',
    wantAssertionsSigned: descriptor.getAttribute('WantAssertionsSigned') === 'true',
    nameIdFormats: children(descriptor, NS.metadata, 'NameIDFormat').map((f) => f.textContent.trim()),
    certificates,
    encryptionMethods,
    assertionConsumerServices: acs,
    acsUrl: post?.location,
  };
}

/**
 * The HTTP-Redirect binding, received (Bindings §3.4.4): the signature over the query string exactly as it was sent
 * (SAMLRequest, RelayState, SigAlg in that order, URL-encoded as they appear), checked with the SP's signing
 * certificate from its metadata, then the AuthnRequest it carries (Core §3.4.1, Profiles §4.1.4.1).
 */
export async function acceptAuthnRequest(url, { ssoUrl, registry, now = new Date() }) {
  const raw = rawQuery(url);
  if (!raw.has('SAMLRequest')) throw new Error('no SAMLRequest in the query');
  const xml = inflateRawSync(Buffer.from(formDecode(raw.get('SAMLRequest')), 'base64')).toString('utf8');
  const root = parseXml(xml).documentElement;
  if (root.namespaceURI !== NS.protocol || root.localName !== 'AuthnRequest') throw new Error('the SAMLRequest is not a samlp:AuthnRequest');

  const issuer = children(root, NS.assertion, 'Issuer')[0]?.textContent.trim();
  if (!issuer) throw new Error('the AuthnRequest names no Issuer');
  const sp = await registry.find(issuer);

  // Signed because this IdP's metadata says WantAuthnRequestsSigned="true"; an XML signature inside a
  // redirect-bound request would not survive the binding (§3.4.4.1), so only the query signature counts.
  if (!raw.has('SigAlg') || !raw.has('Signature')) throw new Error('the AuthnRequest is not signed (SigAlg and Signature are required)');
  const sigAlg = formDecode(raw.get('SigAlg'));
  const hash = REDIRECT_SIGNATURE_HASHES[sigAlg];
  if (!hash) throw new Error(`SigAlg ${sigAlg} is not accepted`);
  const signedOctets = ['SAMLRequest', 'RelayState', 'SigAlg'].filter((name) => raw.has(name)).map((name) => `${name}=${raw.get(name)}`).join('&');
  const signature = Buffer.from(formDecode(raw.get('Signature')), 'base64');
  const verified = sp.certificates.signing.some((certificate) =>
    verify(hash, Buffer.from(signedOctets, 'utf8'), new X509Certificate(Buffer.from(certificate, 'base64')).publicKey, signature));
  if (!verified) throw new Error('the AuthnRequest signature does not verify with the signing certificate in the SP metadata');

  const id = root.getAttribute('ID');
  if (!/^[A-Za-z_][\w.-]*$/.test(id)) throw new Error(`the AuthnRequest ID ${JSON.stringify(id)} is not an xs:ID`);
  if (root.getAttribute('Version') !== '2.0') throw new Error('the AuthnRequest is not SAML 2.0');
  const issueInstant = new Date(root.getAttribute('IssueInstant'));
  if (Number.isNaN(issueInstant.getTime()) || Math.abs(now - issueInstant) > 5 * 60 * 1000) throw new Error('the AuthnRequest IssueInstant is missing or more than 5 minutes off');
  // Bindings §3.4.5.2: a signed request must name the endpoint it was sent to.
  if (root.getAttribute('Destination') !== ssoUrl) throw new Error(`the AuthnRequest Destination ${root.getAttribute('Destination')} is not ${ssoUrl}`);
  const acsUrl = root.getAttribute('AssertionConsumerServiceURL');
  if (acsUrl && acsUrl !== sp.acsUrl) throw new Error(`the AssertionConsumerServiceURL ${acsUrl} is not the SP's HTTP-POST ACS ${sp.acsUrl}`);
  const protocolBinding = root.getAttribute('ProtocolBinding');
  if (protocolBinding && protocolBinding !== BINDING.post) throw new Error(`ProtocolBinding ${protocolBinding} is not supported`);
  const nameIdPolicy = children(root, NS.protocol, 'NameIDPolicy')[0];
  const nameIdFormat = nameIdPolicy?.getAttribute('Format') || null;
  if (nameIdFormat && ![PERSISTENT, 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'].includes(nameIdFormat)) {
    throw new Error(`NameID format ${nameIdFormat} is not available`); // Core §3.4.1.1: InvalidNameIDPolicy
  }

  return {
    id,
    issuer,
    destination: root.getAttribute('Destination'),
    acsUrl: acsUrl || sp.acsUrl,
    protocolBinding,
    nameIdFormat,
    forceAuthn: root.getAttribute('ForceAuthn') === 'true',
    relayState: raw.has('RelayState') ? formDecode(raw.get('RelayState')) : undefined,
    sigAlg,
    xml,
    query: url.search.slice(1),
    serviceProvider: sp,
  };
}

/** Query parameters by name, still URL-encoded as sent; a repeated SAML parameter is refused. */
function rawQuery(url) {
  const raw = new Map();
  for (const pair of url.search.slice(1).split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (raw.has(name)) throw new Error(`the query repeats ${name}`);
    raw.set(name, eq < 0 ? '' : pair.slice(eq + 1));
  }

  return raw;
}

function formDecode(value) {
  return decodeURIComponent(value.replace(/\+/g, '%20'));
}

/** The Response for one accepted AuthnRequest (Profiles §4.1.4.2), protected as `mode` says. */
async function buildResponse({ request, sp, idp, user, mode, inclusiveNamespaces, asXmlCryptoWritesIt = false }) {
  const now = new Date();
  const inFiveMinutes = new Date(now.getTime() + 5 * 60 * 1000);
  const assertionId = `_${randomBytes(20).toString('hex')}`;
  const attributes = Object.entries(user.attributes).map(([name, values]) => `
    <saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values.map((value) => `
      <saml:AttributeValue xsi:type="xs:string">${escapeXml(value)}</saml:AttributeValue>`).join('')}
    </saml:Attribute>`).join('');

  let assertion = `<saml:Assertion xmlns:saml="${NS.assertion}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${assertionId}" Version="2.0" IssueInstant="${instant(now)}">
  <saml:Issuer>${escapeXml(idp.entityId)}</saml:Issuer>
  <saml:Subject>
    <saml:NameID Format="${PERSISTENT}" NameQualifier="${escapeXml(idp.entityId)}" SPNameQualifier="${escapeXml(sp.entityId)}">${user.nameIdXml ?? escapeXml(user.nameId)}</saml:NameID>
    <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
      <saml:SubjectConfirmationData NotOnOrAfter="${instant(inFiveMinutes)}" Recipient="${escapeXml(request.acsUrl)}" InResponseTo="${escapeXml(request.id)}"/>
    </saml:SubjectConfirmation>
  </saml:Subject>
  <saml:Conditions NotBefore="${instant(now)}" NotOnOrAfter="${instant(inFiveMinutes)}">
    <saml:AudienceRestriction>
      <saml:Audience>${escapeXml(sp.entityId)}</saml:Audience>
    </saml:AudienceRestriction>
  </saml:Conditions>
  <saml:AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="_${randomUUID()}" SessionNotOnOrAfter="${instant(new Date(now.getTime() + 8 * 60 * 60 * 1000))}">
    <saml:AuthnContext>
      <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>
    </saml:AuthnContext>
  </saml:AuthnStatement>
  <saml:AttributeStatement>${attributes}
  </saml:AttributeStatement>
</saml:Assertion>`;

  if (mode !== 'response') assertion = signEnveloped(assertion, idp.key, inclusiveNamespaces, asXmlCryptoWritesIt);
  if (mode === 'encrypted' || mode === 'encrypted-sibling') {
    assertion = await encryptAssertion(assertion, sp, { keySibling: mode === 'encrypted-sibling' });
  }

  const response = `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="_${randomBytes(20).toString('hex')}" Version="2.0" IssueInstant="${instant(now)}" Destination="${escapeXml(request.acsUrl)}" InResponseTo="${escapeXml(request.id)}">
  <saml:Issuer>${escapeXml(idp.entityId)}</saml:Issuer>
  <samlp:Status>
    <samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>
  </samlp:Status>
  ${assertion}
</samlp:Response>`;

  return mode === 'response' || mode === 'both' ? signEnveloped(response, idp.key, inclusiveNamespaces, asXmlCryptoWritesIt) : response;
}

/**
 * An enveloped signature on the root element of xml (XML-DSig; SAML Core §5.4): exclusive c14n, the
 * enveloped-signature transform, a reference to the root's ID, RSA-SHA256 over SHA-256 digests, placed right
 * after the root's saml:Issuer as the schemas of Response and Assertion require. inclusiveNamespaces, when given,
 * go in the PrefixList of both the reference's and SignedInfo's canonicalization; asXmlCryptoWritesIt keeps
 * xml-crypto's own output, with the PrefixList repeated inside the enveloped-signature transform.
 */
function signEnveloped(xml, key, inclusiveNamespaces = [], asXmlCryptoWritesIt = false) {
  const signer = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certificatePem,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXCLUSIVE_C14N,
    inclusiveNamespacesPrefixList: inclusiveNamespaces,
  });
  signer.addReference({
    xpath: '/*', transforms: [ENVELOPED, EXCLUSIVE_C14N], digestAlgorithm: SHA256, inclusiveNamespacesPrefixList: inclusiveNamespaces,
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `/*/*[local-name()='Issuer' and namespace-uri()='${NS.assertion}']`, action: 'after' },
  });
  const signed = signer.getSignedXml();
  return inclusiveNamespaces.length && !asXmlCryptoWritesIt ? withoutEnvelopedTransformParameters(signed, key, inclusiveNamespaces) : signed;
}

/**
 * xml-crypto 6.3.2 writes the PrefixList into every transform of a reference, the enveloped-signature transform
 * included, as an InclusiveNamespaces element in that transform's namespace. That transform has no parameters
 * (XML-DSig §6.6.4); signers such as Shibboleth put the PrefixList on the exclusive c14n transform and on
 * CanonicalizationMethod only. This makes the signature look like theirs: it empties the enveloped-signature
 * transform and signs SignedInfo again (canonicalized by xml-crypto, in the namespace scope of the signed document).
 * The DigestValue stays as it is, since the digest never covers the Signature element.
 */
function withoutEnvelopedTransformParameters(xml, key, inclusiveNamespaces) {
  const document = parseXml(xml);
  const signature = children(document.documentElement, NS.dsig, 'Signature')[0];
  const signedInfo = children(signature, NS.dsig, 'SignedInfo')[0];
  const transforms = children(children(signedInfo, NS.dsig, 'Reference')[0], NS.dsig, 'Transforms')[0];
  for (const transform of children(transforms, NS.dsig, 'Transform')) {
    if (transform.getAttribute('Algorithm') === ENVELOPED) while (transform.firstChild) transform.removeChild(transform.firstChild);
  }

  const canonical = new ExclusiveCanonicalization().process(signedInfo.cloneNode(true), {
    inclusiveNamespacesPrefixList: inclusiveNamespaces,
    ancestorNamespaces: namespacesInScope(signature),
  }).toString();
  children(signature, NS.dsig, 'SignatureValue')[0].textContent = sign('sha256', Buffer.from(canonical, 'utf8'), key.privateKey).toString('base64');
  return new XMLSerializer().serializeToString(document);
}

/** The prefixed namespace declarations in scope at element, the nearest one for each prefix. */
function namespacesInScope(element) {
  const scope = new Map();
  for (let node = element; node?.nodeType === 1; node = node.parentNode) {
    for (const attribute of [...node.attributes]) {
      if (attribute.prefix === 'xmlns' && !scope.has(attribute.localName)) scope.set(attribute.localName, attribute.value);
    }
  }

  return [...scope].filter(([, uri]) => uri !== '').map(([prefix, namespaceURI]) => ({ prefix, namespaceURI }));
}

/**
 * saml:EncryptedAssertion (Core §2.3.4) around xenc:EncryptedData: AES-256-GCM content, the key transported with
 * RSA-OAEP (MGF1 with SHA-1, SHA-1 digest) to the SP's encryption certificate. With keySibling the EncryptedKey sits
 * next to the EncryptedData and EncryptedData's KeyInfo points at it with a RetrievalMethod.
 */
async function encryptAssertion(assertion, sp, { keySibling }) {
  const certificate = sp.certificates.encryption[0];
  if (!certificate) throw new Error('the SP metadata has no encryption certificate');
  if (sp.encryptionMethods.length && !sp.encryptionMethods.includes(AES256_GCM)) throw new Error('the SP does not list AES-256-GCM');
  const certificatePem = `-----BEGIN CERTIFICATE-----\n${certificate.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
  const encryptedData = await new Promise((resolve, reject) => xmlenc.encrypt(assertion, {
    rsa_pub: createPublicKey(certificatePem).export({ type: 'spki', format: 'pem' }),
    pem: certificatePem,
    encryptionAlgorithm: AES256_GCM,
    keyEncryptionAlgorithm: RSA_OAEP_MGF1P,
    keyEncryptionDigest: 'sha1',
    disallowEncryptionWithInsecureAlgorithm: true,
  }, (error, result) => (error ? reject(error) : resolve(result))));

  if (!keySibling) return `<saml:EncryptedAssertion>${encryptedData}</saml:EncryptedAssertion>`;

  const document = parseXml(`<saml:EncryptedAssertion xmlns:saml="${NS.assertion}">${encryptedData}</saml:EncryptedAssertion>`);
  const data = children(document.documentElement, NS.xenc, 'EncryptedData')[0];
  const keyInfo = children(data, NS.dsig, 'KeyInfo')[0];
  const encryptedKey = children(keyInfo, NS.xenc, 'EncryptedKey')[0];
  const keyId = `_${randomBytes(12).toString('hex')}`;
  encryptedKey.setAttribute('Id', keyId);
  keyInfo.removeChild(encryptedKey);
  const retrieval = document.createElementNS(NS.dsig, 'RetrievalMethod');
  retrieval.setAttribute('URI', `#${keyId}`);
  retrieval.setAttribute('Type', 'http://www.w3.org/2001/04/xmlenc#EncryptedKey');
  while (keyInfo.firstChild) keyInfo.removeChild(keyInfo.firstChild);
  keyInfo.appendChild(retrieval);
  document.documentElement.appendChild(encryptedKey);
  return new XMLSerializer().serializeToString(document.documentElement);
}

/** The HTTP-POST binding (Bindings §3.5.4): a form that the browser submits to the ACS by itself. */
function autoPostPage(action, samlResponse, relayState) {
  const relay = relayState === undefined ? '' : `\n    <input type="hidden" name="RelayState" value="${escapeXml(relayState)}">`;
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><title>Signing in</title></head>
<body onload="document.forms[0].submit()">
  <form method="post" action="${escapeXml(action)}">
    <input type="hidden" name="SAMLResponse" value="${samlResponse}">${relay}
    <noscript><button type="submit">Continue</button></noscript>
  </form>
</body>
</html>
`;
}

export function parseXml(xml) {
  const document = new DOMParser({
    onError: (level, message) => { if (level !== 'warning') throw new Error(`XML ${level}: ${message}`); },
  }).parseFromString(xml, 'text/xml');
  if (document.doctype) throw new Error('XML with a DTD is refused');
  return document;
}

export function children(element, namespace, localName) {
  return [...element.childNodes].filter((node) => node.nodeType === 1 && node.namespaceURI === namespace && node.localName === localName);
}

function instant(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function escapeXml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
}
