// Several `tessera serve` nodes on one PostgreSQL cluster of their own (its own data directory and port, so that
// restarting it disturbs nothing else), behind the suite's round-robin balancer without stickiness, with an upstream
// oidc-provider and a Security Event Token receiver; and a bounded mixed load against them: client_credentials, refresh
// grants, brokered sign-ins, SCIM writes (create, then deactivate) and Admin API changes. Area 19 (faults) and the soak
// (area 20, bench/soak.sh) run on it.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import * as client from 'openid-client';
import { startSetReceiver } from './backchannel.mjs';
import { startBalancer } from './balancer.mjs';
import { Browser } from './browser.mjs';
import { signIn } from './flows.mjs';
import { CONNECTION, freePorts, generatedSecret, ORGANIZATION, serve } from './harness.mjs';
import { startPostgres } from './postgres.mjs';
import { startUpstream } from './upstream.mjs';

const NODES = 3;
export const ORDERS = 'https://orders.internal';
export const RECEIVER_AUDIENCE = 'https://siem.example';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const USER_SCOPE = 'openid email offline_access read:orders';
/** The load signs in as alice. */
export const LOAD_ACCOUNT = { id: 'stm-1001', email: 'alice@stmarys.example' };
/** A request that has not been answered by then is a hang, and is recorded as one. */
const HANG_MS = 10_000;
export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let clusters = 0;

/** Starts everything; each part is added to `cleanups` as soon as it runs, so that a failed start leaves nothing behind. */
export async function startCluster(env, cleanups, { nodes: count = NODES } = {}) {
  const dir = env.dir;
  const [pgPort, upstreamPort, balancerPort, ...nodePorts] = await freePorts(3 + count);
  const postgres = await startPostgres({ dataDirectory: join(tmpdir(), `tessera-cluster-pg-${process.pid}-${(clusters += 1)}`), port: pgPort });
  cleanups.push(() => postgres.remove());

  const nodeUrls = nodePorts.map((port) => `http://127.0.0.1:${port}`);
  const balancer = await startBalancer({ port: balancerPort, nodes: nodeUrls });
  cleanups.push(() => balancer.close());
  const issuer = balancer.url;

  const upstreamSecret = generatedSecret();
  const upstream = await startUpstream({ port: upstreamPort, clientSecret: upstreamSecret, redirectUri: `${issuer}/oidc/${CONNECTION}/callback` });
  cleanups.push(() => upstream.close());
  const receiverAuthorization = `Bearer ${generatedSecret()}`;
  const receiver = await startSetReceiver(receiverAuthorization);
  cleanups.push(() => receiver.close());

  const ids = { app: 'faults-app', service: 'faults-service', api: 'faults-api', gateway: 'faults-gateway', admin: 'faults-admin' };
  const appRedirect = `http://127.0.0.1:${(await freePorts(1))[0]}/cb`;
  const secrets = { service: generatedSecret(), api: generatedSecret(), gateway: generatedSecret(), admin: generatedSecret(), scim: generatedSecret() };
  const configFile = join(dir, `cluster-${clusters}.json`);
  await writeFile(configFile, JSON.stringify({
    Tessera: {
      Issuer: issuer,
      Storage: { Provider: 'Postgres', ConnectionString: postgres.connectionString },
      Keys: { EncryptionKey: 'env:TESSERA_KEK' },
      // The upstream IdP listens on loopback; the balancer, on loopback too, is the proxy that names the client.
      Network: { AllowPrivateUpstreams: true, TrustedProxies: ['127.0.0.1'] },
      Clients: [
        {
          ClientId: ids.app, Type: 'public', RedirectUris: [appRedirect], GrantTypes: ['authorization_code', 'refresh_token'],
          Scopes: USER_SCOPE.split(' '), Audiences: [ORDERS],
        },
        { ClientId: ids.service, Type: 'confidential', ClientSecret: 'env:SERVICE_SECRET', GrantTypes: ['client_credentials'], Scopes: ['write:orders'], Audiences: [ORDERS] },
        { ClientId: ids.api, Type: 'confidential', ClientSecret: 'env:API_SECRET', GrantTypes: ['client_credentials'], Scopes: ['read:orders'], Audiences: [ORDERS] },
        {
          ClientId: ids.gateway, Type: 'confidential', ClientSecret: 'env:GATEWAY_SECRET',
          GrantTypes: [TOKEN_EXCHANGE], Scopes: ['read:orders'], Audiences: [ORDERS],
        },
        { ClientId: ids.admin, Type: 'confidential', ClientSecret: 'env:ADMIN_SECRET', GrantTypes: ['client_credentials'], Scopes: ['tessera:admin'] },
      ],
      ExchangePolicies: [{
        ClientId: ids.gateway, SubjectIssuers: ['tessera'], Audiences: [ORDERS], Scopes: ['read:orders'], MaxLifetime: '00:15:00', Impersonation: true,
      }],
      Signals: { Receivers: [{ Id: 'siem', Endpoint: receiver.url, Authorization: 'env:RECEIVER_AUTH', Audience: RECEIVER_AUDIENCE }] },
      Organizations: [{
        Id: ORGANIZATION, Domains: ['stmarys.example'],
        Connections: [{ Id: CONNECTION, Protocol: 'oidc', Authority: upstream.issuer, ClientId: 'tessera', ClientSecret: 'env:UPSTREAM_SECRET', Scopes: ['openid', 'email', 'profile'] }],
        Scim: { Tokens: ['env:SCIM_TOKEN'] },
      }],
    },
  }, null, 2));
  const nodeEnv = {
    TESSERA_KEK: randomBytes(32).toString('base64'), // one key-encryption key on every node
    SERVICE_SECRET: secrets.service,
    API_SECRET: secrets.api,
    GATEWAY_SECRET: secrets.gateway,
    ADMIN_SECRET: secrets.admin,
    RECEIVER_AUTH: receiverAuthorization,
    UPSTREAM_SECRET: upstreamSecret,
    SCIM_TOKEN: secrets.scim,
  };

  let starts = 0;
  const startNode = (index) => serve({
    args: [env.dll, 'serve', '--config', configFile, '--urls', nodeUrls[index]],
    url: nodeUrls[index],
    env: nodeEnv,
    log: join(dir, `cluster-node-${index}-${(starts += 1)}.log`),
  });
  // The first node migrates the empty database; the others then start together.
  const nodes = [{ url: nodeUrls[0], process: await startNode(0) }];
  nodes.push(...(await Promise.all(nodeUrls.slice(1).map(async (url, i) => ({ url, process: await startNode(i + 1) })))));
  cleanups.push(() => Promise.all(nodes.map((n) => n.process.kill())));

  const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const app = await client.discovery(new URL(issuer), ids.app, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const world = {
    nodePids: () => nodes.map((n) => n.process.pid),
    dir,
    postgres,
    balancer,
    upstream,
    receiver,
    nodes,
    ids,
    app,
    appRedirect,
    issuer,
    jwks: jose.createRemoteJWKSet(new URL(app.serverMetadata().jwks_uri)),
    secrets: {
      serviceBasic: basic(ids.service, secrets.service),
      apiBasic: basic(ids.api, secrets.api),
      gatewayBasic: basic(ids.gateway, secrets.gateway),
      adminBasic: basic(ids.admin, secrets.admin),
      appBasic: null,
    },
    report: {},
    scimToken: secrets.scim,
    acknowledged: { scimCreated: new Map(), deactivated: new Map(), organizations: new Set(), tokens: 0 },
    scim: (origin) => async (method, path, body) => {
      const response = await timedFetch(`${origin}/scim/v2/${ORGANIZATION}${path}`, {
        method,
        headers: { authorization: `Bearer ${secrets.scim}`, 'content-type': 'application/scim+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: response.json };
    },
    async admin(origin, method, path, body) {
      const token = await tokenRequest(origin, this.secrets.adminBasic, { grant_type: 'client_credentials', scope: 'tessera:admin' });
      if (!token.ok) return token;
      return timedFetch(`${origin}/admin/v1/${path}`, {
        method,
        headers: { authorization: `Bearer ${token.json.access_token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
  };
  world.restart = async (index) => {
    nodes[index].process = await startNode(index);
  };
  return world;
}
/**
 * A request with its latency, status, node, Retry-After, and whether a 503 is in the error shape of its endpoint;
 * never throws: a connection failure is status 0 and a hang (no answer within HANG_MS) is status -1.
 */
export async function timedFetch(url, init = {}) {
  const start = performance.now();
  let response;
  try {
    response = await fetch(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(HANG_MS) });
  } catch (error) {
    return { status: error.name === 'TimeoutError' ? -1 : 0, ok: false, start, end: performance.now(), body: String(error), json: undefined };
  }

  const body = await response.text().catch(() => '');
  let json;
  try { json = body ? JSON.parse(body) : undefined; } catch { json = undefined; }
  const contentType = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    ok: response.ok,
    start,
    end: performance.now(),
    node: response.headers.has('x-balancer-node') ? Number(response.headers.get('x-balancer-node')) : undefined,
    retryAfter: response.headers.get('retry-after'),
    contentType,
    body: body.slice(0, 300),
    json,
    shapeOk: response.status !== 503 || shapeOf(url, contentType, json, body),
  };
}

/** A 503's body must be the error its endpoint speaks: OAuth JSON, SCIM's error, a problem detail, or a page. */
function shapeOf(url, contentType, json, body) {
  const path = new URL(url).pathname;
  if (path.startsWith('/scim/')) return /scim\+json/.test(contentType) && json?.status === '503' && json?.schemas?.includes('urn:ietf:params:scim:api:messages:2.0:Error');
  if (path.startsWith('/admin/')) return /problem\+json/.test(contentType) && json?.status === 503;
  if (['/token', '/introspect', '/revoke'].includes(path)) return json?.error === 'temporarily_unavailable';
  return /text\/html/.test(contentType) && /<html/i.test(body);
}

/**
 * What a sign-in that did not reach the app was answered: a page of Tessera's it stopped on, or openid-client's error
 * for one of its requests to Tessera (the code's redemption, userinfo): the status, Retry-After, and an OAuth error in
 * JSON (its body was read by openid-client; its error code is kept when it was an OAuth error).
 */
export function pageResult(page, error) {
  // oauth4webapi's ResponseBodyError carries the response; openid-client's ClientError for a response it could not
  // take (an unexpected status) carries it as its cause.
  const response = error?.response ?? (error?.cause instanceof Response ? error.cause : error?.cause?.response);
  const contentType = page?.headers?.get('content-type') ?? response?.headers?.get('content-type') ?? '';
  const status = page?.status ?? response?.status ?? error?.cause?.status ?? error?.status ?? 0;
  return {
    status,
    ok: false,
    retryAfter: page?.headers?.get('retry-after') ?? response?.headers?.get('retry-after'),
    contentType,
    shapeOk: status !== 503 || (page
      ? /text\/html/.test(contentType) && /<html/i.test(page.body ?? '')
      : error?.error !== undefined ? error.error === 'temporarily_unavailable' : /json/.test(contentType)),
  };
}

export async function tokenRequest(origin, authorization, parameters, path = '/token') {
  return timedFetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(parameters).toString(),
  });
}

/**
 * Runs the load for `durationMs` and the faults scheduled in `at` ([ms after start, action]); every client stops by
 * itself when the time is up. With `churn`, the Admin API client deletes each organization it created. Answers every
 * request's result and how many clients ran at once.
 */
export async function runLoad(world, { durationMs, at = [], churn = false }) {
  const results = [];
  const started = performance.now();
  const endsAt = started + durationMs;
  const running = () => performance.now() < endsAt;
  const record = (operation, result) => { results.push({ operation, ...result }); return result; };
  const origin = world.balancer.url;

  const clientCredentials = async () => {
    while (running()) {
      const result = record('client_credentials', await tokenRequest(origin, world.secrets.serviceBasic, { grant_type: 'client_credentials', scope: 'write:orders' }));
      if (result.ok) world.acknowledged.tokens += 1;
    }
  };

  const refreshing = async () => {
    let refreshToken;
    while (running()) {
      if (!refreshToken) {
        try {
          refreshToken = (await signInRedeemingAt(world, origin, LOAD_ACCOUNT)).refresh_token;
        } catch (error) {
          record('sign-in', { ...pageResult(error.page, error), start: performance.now(), end: performance.now(), body: error.message.slice(0, 300) });
          await pause(200);
          continue;
        }
      }

      const result = record('refresh', await tokenRequest(origin, null, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: world.ids.app }));
      if (result.ok) {
        refreshToken = result.json.refresh_token;
      } else if (result.status === 502 || result.status === 400) {
        // The node died with it, or it was spent by a request answered 503 after its first commit: sign in again.
        refreshToken = undefined;
      } else {
        await pause(100);
      }
    }
  };

  const signingIn = async () => {
    while (running()) {
      const start = performance.now();
      try {
        await signInRedeemingAt(world, origin, LOAD_ACCOUNT);
        record('sign-in', { status: 200, ok: true, start, end: performance.now() });
      } catch (error) {
        record('sign-in', { ...pageResult(error.page, error), start, end: performance.now(), body: error.message.slice(0, 300) });
        await pause(100);
      }
    }
  };

  const scimWriting = async () => {
    while (running()) {
      const userName = `load-${randomBytes(6).toString('hex')}@stmarys.example`;
      const made = record('scim-create', await scimRequest(world, origin, 'POST', '/Users', { schemas: [SCIM_USER], userName, active: true }));
      if (made.status !== 201) {
        await pause(100);
        continue;
      }

      world.acknowledged.scimCreated.set(made.json.id, userName);
      const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
      // A deactivation is a revocation: retried until acknowledged, as a provisioning client does.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const done = record('scim-deactivate', await scimRequest(world, origin, 'PATCH', `/Users/${made.json.id}`, patch));
        if (done.status === 200) {
          world.acknowledged.deactivated.set(made.json.id, userName);
          break;
        }

        await pause(250);
      }
    }
  };

  const administering = async () => {
    while (running()) {
      const id = `load-org-${randomBytes(4).toString('hex')}`;
      const token = record('admin-token', await tokenRequest(origin, world.secrets.adminBasic, { grant_type: 'client_credentials', scope: 'tessera:admin' }));
      if (token.ok) {
        const made = record('admin-create', await timedFetch(`${origin}/admin/v1/organizations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token.json.access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ Id: id, DisplayName: id }),
        }));
        if (made.ok && churn) {
          // A soak changes the configuration without growing it: what is created is deleted again.
          record('admin-delete', await timedFetch(`${origin}/admin/v1/organizations/${id}`, {
            method: 'DELETE', headers: { authorization: `Bearer ${token.json.access_token}` },
          }));
        } else if (made.ok) {
          world.acknowledged.organizations.add(id);
        }
      }

      await pause(300);
    }
  };

  const clients = [clientCredentials, clientCredentials, clientCredentials, refreshing, refreshing, signingIn, scimWriting, administering];
  const faults = at.map(async ([delay, action]) => { await pause(delay); await action(); });
  await Promise.all([...clients.map((c) => c()), ...faults]);
  return { results, concurrency: clients.length };
}

export async function scimRequest(world, origin, method, path, body) {
  return timedFetch(`${origin}/scim/v2/${ORGANIZATION}${path}`, {
    method,
    headers: { authorization: `Bearer ${world.scimToken}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(body),
  });
}

/** A whole brokered sign-in through the balancer, whose code is redeemed at `origin` (a node, or the balancer). */
export async function signInRedeemingAt(world, origin, account) {
  const config = origin === world.balancer.url ? world.app : await client.discovery(new URL(world.issuer), world.ids.app, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  if (origin !== world.balancer.url) {
    const tokenEndpoint = new URL('/token', origin).href;
    config[client.customFetch] = (url, options) => fetch(String(url).endsWith('/token') ? tokenEndpoint : url, options);
  }

  const browser = new Browser({ stopAt: [world.appRedirect] });
  const { tokens } = await signIn(browser, config, { redirectUri: world.appRedirect, scope: USER_SCOPE, account: account.id, parameters: { login_hint: account.email } });
  return tokens;
}

export function summarize(results) {
  return countBy(results, (r) => `${r.operation} ${r.status}`);
}

export function countBy(items, key) {
  const counts = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

export function describeResult(r) {
  return `${r.operation} ${r.status} in ${Math.round(r.end - r.start)} ms at node ${r.node}: ${r.body ?? ''}`.slice(0, 400);
}

export function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
