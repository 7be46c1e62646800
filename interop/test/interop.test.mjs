// The interop suite: one live `tessera serve` (with one oidc-provider upstream, one SAML IdP, and a second oidc-provider
// as a partner portal's STS) for all areas, so that area 9 can verify every access token the others obtained. Each
// area is one file in ../areas/.
import { after, before, describe } from 'node:test';
import discovery from '../areas/01-discovery.mjs';
import clientCredentials from '../areas/02-client-credentials.mjs';
import authorizationCode from '../areas/03-authorization-code.mjs';
import singleSignOn from '../areas/04-single-sign-on.mjs';
import refreshRotation from '../areas/05-refresh-rotation.mjs';
import introspection from '../areas/06-introspection.mjs';
import revocation from '../areas/07-revocation.mjs';
import endSession from '../areas/08-end-session.mjs';
import accessTokens from '../areas/09-access-tokens.mjs';
import saml from '../areas/10-saml.mjs';
import tokenExchange from '../areas/11-token-exchange.mjs';
import scim from '../areas/12-scim.mjs';
import revocationEverywhere from '../areas/13-revocation-everywhere.mjs';
import issuerSpelling from '../areas/14-issuer-spelling.mjs';
import browserPages from '../areas/15-browser-pages.mjs';
import setupPortal from '../areas/16-setup-portal.mjs';
import anomalies from '../areas/17-anomalies.mjs';
import auditCheckpoints from '../areas/18-audit-checkpoints.mjs';
import faults from '../areas/19-faults.mjs';
import soak from '../areas/20-soak.mjs';
import credentials from '../areas/21-credentials.mjs';
import { start, stop } from '../lib/harness.mjs';

describe('Tessera interop (live tessera serve, openid-client, oidc-provider, SAML IdP, jose, OpenID4VCI wallet, SD-JWT VC verifier)', () => {
  // Builds Tessera unless TESSERA_DLL is set (a cold build with a NuGet restore can take minutes), then starts both servers.
  before(start, { timeout: 600_000 });
  after(stop);

  discovery();
  clientCredentials();
  authorizationCode();
  singleSignOn();
  refreshRotation();
  introspection();
  revocation();
  endSession();
  accessTokens();
  saml();
  tokenExchange();
  scim();
  revocationEverywhere();
  issuerSpelling();
  browserPages();
  setupPortal();
  anomalies();
  auditCheckpoints();
  faults();
  soak();
  credentials();
});
