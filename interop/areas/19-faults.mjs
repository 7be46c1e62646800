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
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import * as client from 'openid-client';
import { Browser } from '../lib/browser.mjs';
import {
  countBy, describeResult, LOAD_ACCOUNT, PATCH_OP, pause, percentile, RECEIVER_AUDIENCE, runLoad, SCIM_USER, signInRedeemingAt,
  startCluster, summarize, timedFetch, TOKEN_EXCHANGE, tokenRequest, USER_SCOPE,
} from '../lib/cluster.mjs';
import { environment } from '../lib/harness.mjs';
import { postgresInstalled } from '../lib/postgres.mjs';

const ACCOUNT_DISABLED = 'https://schemas.openid.net/secevent/risc/event-type/account-disabled';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** The cross-node revocation test deactivates bob (the load signs in as alice). */
const REVOKED_ACCOUNT = { id: 'stm-1002', email: 'bob@stmarys.example' };
/** A 503 during the outage comes within this: the driver's refusal, not a timeout. */
const MAX_503_LATENCY_MS = 2000;
/** Every request of the load is answered within this, whatever happens (a slow sign-in hop on a busy 2-core machine is not a hang). */
const MAX_LATENCY_MS = 5000;
const HEALTHZ_MAX_LATENCY_MS = 1000;
const AREA_BUDGET_MS = 240_000;

/** What the load, the faults and the checks share; filled by before(). */
const world = {};

export default () => describe('19. Faults under load (three nodes on PostgreSQL behind a round-robin balancer)', { timeout: AREA_BUDGET_MS }, () => {
  before(async () => {
    if (!postgresInstalled()) {
      throw new Error("PostgreSQL's server packages are not installed (apt-get install postgresql); this area needs them");
    }

    world.cleanups = [];
    Object.assign(world, await startCluster(environment(), world.cleanups));
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
    const issuedThere = await signInRedeemingAt(world, node.url, LOAD_ACCOUNT);

    let killedAt;
    let load;
    try {
      load = await runLoad(world, {
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
    const load = await runLoad(world, {
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
      // The slowest 503s, each with when it began against the stop (negative: it was in flight before PostgreSQL began
      // to stop) and how long the stop itself took, to tell a request caught by the shutdown from a slow refusal.
      stopMs: Math.round(outage.stoppedAt - outage.stoppingAt),
      slowest503: [...unavailable].sort((a, b) => (b.end - b.start) - (a.end - a.start)).slice(0, 3).map((r) => ({
        operation: r.operation, node: r.node, ms: Math.round(r.end - r.start), startedMsAfterStop: Math.round(r.start - outage.stoppingAt),
      })),
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
    const tokens = await signInRedeemingAt(world, world.balancer.url, REVOKED_ACCOUNT);
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

