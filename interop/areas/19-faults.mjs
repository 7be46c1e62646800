// Faults under load. Three `tessera serve` nodes on one PostgreSQL cluster of this area's own (its own data directory
// and port, so that restarting it disturbs no other area), behind the suite's round-robin balancer without
// stickiness, with an upstream oidc-provider and a Security Event Token receiver that counts jtis. A bounded load of
// client_credentials, refresh grants, brokered sign-ins, SCIM writes and Admin API changes runs while one node is
// killed with SIGKILL, and again while PostgreSQL is restarted. Then: nothing acknowledged is lost, and a user
// deactivated through one node is refused at once by the two others.
//
// The guarantee held here: a state change that Tessera acknowledged to its client (a SCIM write or deactivation
// answered 2xx, an Admin API change answered 2xx, a revocation) is stored; its audit row is stored with it; each
// Security Event Token it causes reaches each receiver, always under the same jti, so a receiver that keeps the jtis
// it has seen processes it exactly once. What was not acknowledged (a request in flight on a node that died, a 503
// during the outage) may or may not have happened, and the client is told so by the failure.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import * as client from 'openid-client';
import { startSetReceiver } from '../lib/backchannel.mjs';
import { startBalancer } from '../lib/balancer.mjs';
import { Browser } from '../lib/browser.mjs';
import { signIn } from '../lib/flows.mjs';
import { CONNECTION, environment, freePorts, generatedSecret, ORGANIZATION, serve } from '../lib/harness.mjs';
import { postgresInstalled, startPostgres } from '../lib/postgres.mjs';
import { startUpstream } from '../lib/upstream.mjs';

const NODES = 3;
const ORDERS = 'https://orders.internal';
const RECEIVER_AUDIENCE = 'https://siem.example';
const ACCOUNT_DISABLED = 'https://schemas.openid.net/secevent/risc/event-type/account-disabled';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const USER_SCOPE = 'openid email offline_access read:orders';
/** Load signs in as alice; the cross-node revocation test deactivates bob. */
const LOAD_ACCOUNT = { id: 'stm-1001', email: 'alice@stmarys.example' };
const REVOKED_ACCOUNT = { id: 'stm-1002', email: 'bob@stmarys.example' };
/** A 503 during the outage comes within this: the driver's refusal, not a timeout. */
const MAX_503_LATENCY_MS = 2000;
/** Every request of the load is answered within this, whatever happens (a slow sign-in hop on a busy 2-core machine is not a hang). */
const MAX_LATENCY_MS = 5000;
const HEALTHZ_MAX_LATENCY_MS = 1000;
/** A request that has not been answered by then is a hang, and is recorded as one. */
const HANG_MS = 10_000;
const AREA_BUDGET_MS = 240_000;
const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** What the load, the faults and the checks share; filled by before(). */
const world = {};

export default () => describe('19. Faults under load (three nodes on PostgreSQL behind a round-robin balancer)', { timeout: AREA_BUDGET_MS }, () => {
  before(async () => {
    if (!postgresInstalled()) {
      throw new Error("PostgreSQL's server packages are not installed (apt-get install postgresql); this area needs them");
    }

    world.cleanups = [];
    Object.assign(world, await launch(environment(), world.cleanups));
  }, { timeout: 180_000 });

  after(async () => {
    for (const cleanup of (world.cleanups ?? []).reverse()) {
      try { await cleanup(); } catch (error) { console.error(`cleanup failed: ${error.message}`); }
    }
  });

  test('a node killed with SIGKILL mid-load: the others carry on, only its requests in flight fail, its sign-ins and refresh tokens live on', async () => {
    const victim = 1;
    const node = world.nodes[victim];

    // A sign-in begun on the victim, up to the upstream IdP's login page; a refresh token the victim issued.
    const begun = await beginSignInAt(node.url, REVOKED_ACCOUNT.email);
    const issuedThere = await signInRedeemingAt(node.url, LOAD_ACCOUNT);

    let killedAt;
    let load;
    try {
      load = await runLoad({
        durationMs: 10_000,
        at: [[3000, async () => { killedAt = performance.now(); await node.process.killHard(); }]],
      });
    } finally {
      await world.restart(victim); // back to three nodes for what follows, whatever this test finds
    }

    const stats = world.balancer.stats;
    const failedHere = stats.failed.filter((f) => f.at >= killedAt);
    const firstRefusal = stats.refused.find((r) => r.at >= killedAt && r.node === victim);
    world.report.kill = {
      requests: load.results.length,
      failedInFlight: failedHere.length,
      failedOnOtherNodes: failedHere.filter((f) => f.node !== victim).length,
      refusedThenRetried: stats.refused.filter((r) => r.at >= killedAt).length,
      msUntilFirstRefusal: firstRefusal ? Math.round(firstRefusal.at - killedAt) : null,
      lastRequestOnVictimMsAfterKill: Math.round(Math.max(0, ...load.results.filter((r) => r.node === victim).map((r) => r.end - killedAt))),
      byOperation: summarize(load.results),
    };
    console.log(`kill -9: ${JSON.stringify(world.report.kill)}`);

    assert.deepEqual(failedHere.filter((f) => f.node !== victim), [], 'only the killed node failed requests');
    // A request fails only if the victim had it when it died: at most one per concurrent client of the load.
    assert.ok(failedHere.length <= load.concurrency, `${failedHere.length} requests failed, more than the ${load.concurrency} that can be in flight`);
    const unexpected = load.results.filter((r) => r.status !== 502 && !r.ok);
    assert.deepEqual(unexpected.map(describeResult), [], 'every other request succeeded');
    assert.ok(load.results.filter((r) => r.ok && r.start > killedAt + 500).length > 20, 'the load went on after the kill');

    // The sign-in begun on the dead node completes on the others: its state is in the database.
    const tokens = await completeSignIn(begun, REVOKED_ACCOUNT);
    assert.equal(tokens.claims().email, REVOKED_ACCOUNT.email);
    // The refresh token the dead node issued is refreshed by another.
    const refreshed = await client.refreshTokenGrant(world.app, issuedThere.refresh_token);
    assert.ok(refreshed.access_token);
  });

  test('PostgreSQL restarted mid-load: 503 with Retry-After at once during the outage, /healthz stays fast, every node recovers by itself', async () => {
    const outage = { stoppedAt: 0, startedAt: 0 };
    const probes = [];
    const probing = probeHealth(probes);
    const load = await runLoad({
      durationMs: 14_000,
      at: [
        [3000, async () => { outage.stoppingAt = performance.now(); await world.postgres.stop(); outage.stoppedAt = performance.now(); }],
        [8000, async () => {
          await world.postgres.start();
          outage.startedAt = performance.now();
          // Every node, asked directly, is ready again and issues a token, without a restart.
          outage.recovered = Promise.all(world.nodes.map((n) => recovery(n.url, outage.startedAt)));
        }],
      ],
    });
    const recovered = await outage.recovered;
    probing.stop();
    await probing.done;

    const during = load.results.filter((r) => r.start >= outage.stoppedAt && r.end <= outage.startedAt);
    const unavailable = load.results.filter((r) => r.status === 503);
    world.report.restart = {
      outageMs: Math.round(outage.startedAt - outage.stoppingAt),
      requests: load.results.length,
      duringOutage: during.length,
      answered503: unavailable.length,
      p50LatencyMs503: percentile(unavailable.map((r) => r.end - r.start), 50),
      maxLatencyMs503: percentile(unavailable.map((r) => r.end - r.start), 100),
      maxLatencyMsAll: percentile(load.results.map((r) => r.end - r.start), 100),
      maxHealthzMs: percentile(probes.map((p) => p.ms), 100),
      recoveryMsAfterStart: recovered,
      statuses: countBy(load.results, (r) => `${r.operation} ${r.status}`),
    };
    console.log(`PostgreSQL restart: ${JSON.stringify(world.report.restart)}`);

    assert.deepEqual(load.results.filter((r) => r.status >= 500 && r.status !== 503).map(describeResult), [], 'no 5xx other than 503');
    assert.deepEqual(load.results.filter((r) => r.end - r.start > MAX_LATENCY_MS).map(describeResult), [], `every request answered within ${MAX_LATENCY_MS} ms`);
    assert.deepEqual(unavailable.filter((r) => r.end - r.start > MAX_503_LATENCY_MS).map(describeResult), [], `every 503 within ${MAX_503_LATENCY_MS} ms`);
    assert.ok(during.length > 0, 'the load ran during the outage');
    for (const result of unavailable) {
      assert.ok(result.retryAfter, `${describeResult(result)} has Retry-After`);
      assert.ok(result.shapeOk, `${describeResult(result)} is in its endpoint's error shape: ${result.body}`);
    }

    assert.deepEqual(probes.filter((p) => p.status !== 200 || p.ms > HEALTHZ_MAX_LATENCY_MS), [], '/healthz answered 200 fast on every node throughout');
    assert.ok(load.results.filter((r) => r.ok && r.start > outage.startedAt + 3000).length > 0, 'the load succeeded again after the outage');
  });

  test('nothing acknowledged is lost: SCIM writes, Admin API changes, their audit rows, and each revocation reaches the receiver under one jti', async () => {
    const { acknowledged } = world;
    assert.ok(acknowledged.scimCreated.size > 0 && acknowledged.deactivated.size > 0 && acknowledged.organizations.size > 0, 'the load made changes');

    const scim = world.scim(world.balancer.url);
    for (const [id, userName] of acknowledged.scimCreated) {
      const found = await scim('GET', `/Users/${id}`);
      assert.equal(found.status, 200, `SCIM user ${userName} (${id}), acknowledged, is stored`);
      assert.equal(found.json.active, !acknowledged.deactivated.has(id), `${userName}: the acknowledged active state`);
    }

    for (const id of acknowledged.organizations) {
      const found = await world.admin(world.balancer.url, 'GET', `organizations/${id}`);
      assert.equal(found.status, 200, `organization ${id}, acknowledged, is stored`);
    }

    // Each acknowledged deactivation: one account-disabled event for that user, under one jti however often it came.
    const deadline = Date.now() + 30_000;
    let disabled;
    do {
      disabled = await receivedEvents(ACCOUNT_DISABLED);
      if ([...acknowledged.deactivated.keys()].every((id) => disabled.bySubject.has(id))) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } while (Date.now() < deadline);

    const missing = [...acknowledged.deactivated.keys()].filter((id) => !disabled.bySubject.has(id));
    assert.deepEqual(missing, [], 'every acknowledged deactivation reached the receiver');
    const twice = [...disabled.bySubject].filter(([, jtis]) => jtis.size > 1);
    assert.deepEqual(twice, [], 'one jti per deactivation');

    // Audit rows: every acknowledged SCIM write and admin change has its row, written with the change.
    await pause(1000); // the nodes' audit writers gather for a few milliseconds before they write
    const rows = Object.fromEntries((await world.postgres.query(
      'SELECT "Event", count(*) FROM audit_events GROUP BY "Event"',
    )).map(([event, count]) => [event, Number(count)]));
    const serviceTokenRows = Number((await world.postgres.query(
      `SELECT count(*) FROM audit_events WHERE "Event" = 'token.issued' AND "ClientId" = '${world.ids.service}'`,
    ))[0][0]);
    const scimRows = await world.postgres.query('SELECT "UserId", "Event" FROM audit_events WHERE "Event" LIKE \'scim.user.%\'');
    const auditedCreates = new Set(scimRows.filter(([, event]) => event === 'scim.user.created').map(([id]) => id));
    const missingCreates = [...acknowledged.scimCreated.keys()].filter((id) => !auditedCreates.has(id));
    const issued = acknowledged.tokens;
    world.report.nothingLost = {
      scimCreated: acknowledged.scimCreated.size,
      deactivated: acknowledged.deactivated.size,
      organizations: acknowledged.organizations.size,
      setsReceived: world.receiver.received.length,
      duplicateDeliveries: disabled.duplicates,
      tokensAcknowledged: issued,
      tokenIssuedRows: serviceTokenRows,
      tokenRowsLost: Math.max(0, issued - serviceTokenRows),
      scimCreatesWithoutAuditRow: missingCreates.length,
      auditRows: rows,
    };
    console.log(`nothing lost: ${JSON.stringify(world.report.nothingLost)}`);
    await writeFile(join(world.dir, 'faults-report.json'), JSON.stringify(world.report, null, 2));
    assert.deepEqual(missingCreates, [], 'every acknowledged SCIM create has its audit row');
  });

  test('a user deactivated through node A is refused at once by nodes B and C: refresh, introspection, token exchange', async () => {
    const [a, b, c] = world.nodes.map((n) => n.url);
    const tokens = await signInRedeemingAt(world.balancer.url, REVOKED_ACCOUNT);
    const { sub } = tokens.claims();
    const scimAtA = world.scim(a);
    const made = await scimAtA('POST', '/Users', { schemas: [SCIM_USER], userName: REVOKED_ACCOUNT.email, active: true });
    assert.ok([201, 409].includes(made.status), JSON.stringify(made.json));
    const deactivated = await scimAtA('PATCH', `/Users/${sub}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    assert.equal(deactivated.status, 200, JSON.stringify(deactivated.json));

    // Straight after the 200 from A, without waiting for anything.
    const refreshAtB = await tokenRequest(b, world.secrets.appBasic, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: world.ids.app });
    const introspectAtC = await tokenRequest(c, world.secrets.apiBasic, { token: tokens.access_token }, '/introspect');
    const exchangeAtB = await tokenRequest(b, world.secrets.gatewayBasic, {
      grant_type: TOKEN_EXCHANGE, subject_token: tokens.access_token, subject_token_type: ACCESS_TOKEN_TYPE, scope: 'read:orders',
    });
    const exchangeAtC = await tokenRequest(c, world.secrets.gatewayBasic, {
      grant_type: TOKEN_EXCHANGE, subject_token: tokens.access_token, subject_token_type: ACCESS_TOKEN_TYPE, scope: 'read:orders',
    });
    assert.equal(refreshAtB.status, 400, JSON.stringify(refreshAtB.json));
    assert.equal(refreshAtB.json.error, 'invalid_grant', JSON.stringify(refreshAtB.json));
    assert.equal(introspectAtC.status, 200);
    assert.deepEqual(introspectAtC.json, { active: false });
    for (const exchange of [exchangeAtB, exchangeAtC]) {
      // RFC 8693 §2.2.2: an invalid subject_token is invalid_request.
      assert.equal(exchange.status, 400, JSON.stringify(exchange.json));
      assert.equal(exchange.json.error, 'invalid_request', JSON.stringify(exchange.json));
    }
  });
});

/** Starts everything; each part is added to `cleanups` as soon as it runs, so that a failed start leaves nothing behind. */
async function launch(env, cleanups) {
  const dir = env.dir;
  const [pgPort, upstreamPort, balancerPort, ...nodePorts] = await freePorts(3 + NODES);
  const postgres = await startPostgres({ dataDirectory: join(tmpdir(), `tessera-faults-pg-${process.pid}`), port: pgPort });
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
  const configFile = join(dir, 'faults.json');
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
    log: join(dir, `faults-node-${index}-${(starts += 1)}.log`),
  });
  // The first node migrates the empty database; the others then start together.
  const nodes = [{ url: nodeUrls[0], process: await startNode(0) }];
  nodes.push(...(await Promise.all(nodeUrls.slice(1).map(async (url, i) => ({ url, process: await startNode(i + 1) })))));
  cleanups.push(() => Promise.all(nodes.map((n) => n.process.kill())));

  const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const app = await client.discovery(new URL(issuer), ids.app, undefined, client.None(), { execute: [client.allowInsecureRequests] });
  const world = {
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
async function timedFetch(url, init = {}) {
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

/** What a sign-in that stopped on a page of Tessera's (not at the app) was answered. */
function pageResult(page, error) {
  const contentType = page?.headers?.get('content-type') ?? '';
  return {
    status: page?.status ?? error?.cause?.status ?? error?.status ?? 0, // a page, or openid-client's code grant
    ok: false,
    retryAfter: page?.headers?.get('retry-after'),
    contentType,
    shapeOk: page?.status !== 503 || (/text\/html/.test(contentType) && /<html/i.test(page.body ?? '')),
  };
}

async function tokenRequest(origin, authorization, parameters, path = '/token') {
  return timedFetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(parameters).toString(),
  });
}

/**
 * Runs the load for `durationMs` and the faults scheduled in `at` ([ms after start, action]); every client stops by
 * itself when the time is up. Answers every request's result and how many clients ran at once.
 */
async function runLoad({ durationMs, at }) {
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
          refreshToken = (await signInRedeemingAt(origin, LOAD_ACCOUNT)).refresh_token;
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
        await signInRedeemingAt(origin, LOAD_ACCOUNT);
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
      const made = record('scim-create', await scimRequest(origin, 'POST', '/Users', { schemas: [SCIM_USER], userName, active: true }));
      if (made.status !== 201) {
        await pause(100);
        continue;
      }

      world.acknowledged.scimCreated.set(made.json.id, userName);
      const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
      // A deactivation is a revocation: retried until acknowledged, as a provisioning client does.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const done = record('scim-deactivate', await scimRequest(origin, 'PATCH', `/Users/${made.json.id}`, patch));
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
        if (made.ok) world.acknowledged.organizations.add(id);
      }

      await pause(300);
    }
  };

  const clients = [clientCredentials, clientCredentials, clientCredentials, refreshing, refreshing, signingIn, scimWriting, administering];
  const faults = at.map(async ([delay, action]) => { await pause(delay); await action(); });
  await Promise.all([...clients.map((c) => c()), ...faults]);
  return { results, concurrency: clients.length };
}

async function scimRequest(origin, method, path, body) {
  return timedFetch(`${origin}/scim/v2/${ORGANIZATION}${path}`, {
    method,
    headers: { authorization: `Bearer ${world.scimToken}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(body),
  });
}

/** Probes /healthz of every node directly, every 200 ms, until stopped. */
function probeHealth(probes) {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      await Promise.all(world.nodes.map(async (node, index) => {
        const result = await timedFetch(`${node.url}/healthz`);
        probes.push({ node: index, status: result.status, ms: result.end - result.start });
      }));
      await pause(200);
    }
  })();
  return { stop: () => { stopped = true; }, done };
}

/** Milliseconds from PostgreSQL's start until the node answers /readyz 200 and issues a token. */
async function recovery(origin, since) {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const ready = await timedFetch(`${origin}/readyz`);
    if (ready.status === 200) {
      const token = await tokenRequest(origin, world.secrets.serviceBasic, { grant_type: 'client_credentials', scope: 'write:orders' });
      if (token.ok) {
        world.acknowledged.tokens += 1;
        return Math.round(token.end - since);
      }
    }

    await pause(100);
  }

  throw new Error(`${origin} did not recover within 30 s of PostgreSQL's start`);
}

/** openid-client's authorization request for the app, carried by a browser up to the upstream IdP, begun at `origin`. */
async function beginSignInAt(origin, email) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = new URL(client.buildAuthorizationUrl(world.app, {
    redirect_uri: world.appRedirect, scope: USER_SCOPE, state, nonce, login_hint: email,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
  }));
  const atNode = new URL(`${url.pathname}${url.search}`, origin);
  const browser = new Browser({ stopAt: [world.upstream.issuer] });
  const page = await browser.navigate(atNode);
  assert.equal(page.status, null, `the sign-in went on to the upstream IdP: ${page.status} ${page.body?.slice(0, 300)}`);
  return { browser, upstreamUrl: page.url, codeVerifier, state, nonce };
}

/** Goes on with a sign-in from the upstream IdP's side (through the balancer) and redeems the code. */
async function completeSignIn(begun, account) {
  const browser = begun.browser.fork();
  browser.stopAt = [world.appRedirect];
  let page = await browser.navigate(begun.upstreamUrl);
  for (let step = 0; page.status !== null && step < 4; step += 1) {
    page = /name="login"/.test(page.body)
      ? await browser.submitForm(page, { login: account.id, password: 'any password will do' })
      : await browser.submitForm(page);
  }

  assert.equal(page.status, null, `the sign-in landed at the app: ${page.status} ${page.body?.slice(0, 300)}`);
  return client.authorizationCodeGrant(world.app, page.url, {
    pkceCodeVerifier: begun.codeVerifier, expectedState: begun.state, expectedNonce: begun.nonce, idTokenExpected: true,
  });
}

/** A whole brokered sign-in through the balancer, whose code is redeemed at `origin` (a node, or the balancer). */
async function signInRedeemingAt(origin, account) {
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

async function receivedEvents(eventType) {
  const bySubject = new Map();
  let duplicates = 0;
  const seen = new Set();
  for (const received of world.receiver.received) {
    const { payload } = await jose.jwtVerify(received.set, world.jwks, { issuer: world.app.serverMetadata().issuer, audience: RECEIVER_AUDIENCE });
    if (seen.has(payload.jti)) duplicates += 1;
    seen.add(payload.jti);
    if (!payload.events?.[eventType]) continue;
    const sub = payload.sub_id?.user?.sub;
    if (!bySubject.has(sub)) bySubject.set(sub, new Set());
    bySubject.get(sub).add(payload.jti);
  }

  return { bySubject, duplicates };
}

function summarize(results) {
  return countBy(results, (r) => `${r.operation} ${r.status}`);
}

function countBy(items, key) {
  const counts = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

function describeResult(r) {
  return `${r.operation} ${r.status} in ${Math.round(r.end - r.start)} ms at node ${r.node}: ${r.body ?? ''}`.slice(0, 400);
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
