import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import * as client from 'openid-client';
import { startSetReceiver } from '../lib/backchannel.mjs';
import { authorize, oauthError, signIn } from '../lib/flows.mjs';
import { AREA_TIMEOUT_MS, environment, FAILURE_BURST, generatedSecret, ORDERS_SCOPE } from '../lib/harness.mjs';

/** Addresses DB-IP City Lite places: London, another London network, and Google's in Mountain View. */
const LONDON = '81.2.69.142';
const LONDON_AGAIN = '212.58.244.1';
const MOUNTAIN_VIEW = '8.8.8.8';

const ORGANIZATION = 'st-anns';
const CONNECTION = 'stanns-oidc';
const RISK_EVENT = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const ACCOUNT_DISABLED = 'https://schemas.openid.net/secevent/risc/event-type/account-disabled';
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A client behind the proxy guessing a client's secret (TEST-NET-2, which no GeoIP file places: bursts need no place). */
const GUESSER = '198.51.100.7';

/** What each rule's audit row says beyond both countries and addresses (London to Mountain View is about 8,600 km). */
const EVIDENCE = {
  ImpossibleTravel: (detail) => { apart(detail); faster(detail); assert.equal(detail.max_speed_kmh, '1000'); },
  TwoCountries: (detail) => { apart(detail); faster(detail); assert.equal(detail.window, '00:10:00'); },
  NewCountry: (detail) => assert.equal(detail.known_countries, 'GB'),
  TokenUsedElsewhere: (detail) => apart(detail),
};

/**
 * What each action does to the request from the second place, and which Security Event Tokens the organization's
 * receiver hears (risk-level-change for every action above log; disable also ends the session and the account).
 */
const ACTIONS = {
  log: { outcome: 'signed in', signals: [] },
  notify: { outcome: 'signed in', signals: [RISK_EVENT] },
  challenge: { outcome: 'signed in again upstream', signals: [RISK_EVENT, RISK_EVENT] }, // the challenge, then its answer
  block: { outcome: 'refused', signals: [RISK_EVENT] },
  revoke: { outcome: 'refused', signals: [RISK_EVENT, SESSION_REVOKED] },
  disable: { outcome: 'refused', signals: [RISK_EVENT, SESSION_REVOKED, ACCOUNT_DISABLED] },
};

/**
 * Another row per rule and action (TwoCountries with revoke is the first test): each for an organization of its own,
 * onboarded through the Admin API with that one rule, an OIDC connection to the upstream and its SIEM as a receiver,
 * and an upstream account of its own. The user signs in from London; moments later the same user signs in (or, for
 * TokenUsedElsewhere, refreshes the London session's token) from Mountain View, both through the trusted proxy.
 */
const ROWS = [
  {
    rule: 'ImpossibleTravel', action: 'log', organization: 'st-bedes', name: "St Bede's", account: 'stm-1006',
    says: 'London, then Mountain View a moment later, faster than a plane: signed in, and only the audit row says so',
  },
  {
    rule: 'ImpossibleTravel', action: 'block', organization: 'st-clares', name: "St Clare's", account: 'stm-1007',
    says: "London, then Mountain View a moment later: refused, the error page's reference is the audit row's, the London session stays",
  },
  {
    rule: 'TwoCountries', action: 'challenge', organization: 'st-davids', name: "St David's", account: 'stm-1008',
    says: 'London, then Mountain View: sent back upstream with prompt=login, signed in after logging in again, the audit row says the challenge was passed',
  },
  {
    rule: 'NewCountry', action: 'notify', organization: 'st-edmunds', name: "St Edmund's", account: 'stm-1009',
    says: 'London, then Mountain View, a country never seen for the user: signed in, and the SIEM gets a risk-level-change SET',
  },
  {
    rule: 'NewCountry', action: 'disable', organization: 'st-francis', name: "St Francis's", account: 'stm-1010',
    says: 'London, then Mountain View: refused, the London session ends (logout token, SETs), the account is disabled (RISC), and the next sign-in from London is refused',
  },
  {
    rule: 'TokenUsedElsewhere', action: 'revoke', organization: 'st-giles', name: "St Giles's", account: 'stm-1011',
    says: "the London session's refresh token works from London again, then from Mountain View is refused with invalid_grant and the session ends",
  },
];

export default () => describe('17. Anomalies: every rule and action, placed by the real DB-IP City Lite file through a trusted proxy', { timeout: AREA_TIMEOUT_MS * 2 }, () => {
  test("TwoCountries → revoke: London, then Mountain View minutes later: refused, the London session ends, and the app and a receiver hear of it within 2 s", async () => {
    const env = environment();
    const authorization = `Bearer ${generatedSecret()}`;
    const receiver = await startSetReceiver(authorization);
    try {
      // St Ann's, onboarded at runtime: its rule (the platform's choice), its IdP connection, and its SIEM as a receiver.
      const created = await env.admin('POST', 'organizations', {
        Id: ORGANIZATION, DisplayName: "St Ann's", Domains: ['stanns.example'],
        Anomaly: { Rules: [{ Rule: 'TwoCountries', Window: '00:10:00', Action: 'revoke' }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const upstreamClient = { clientId: 'tessera-stanns', clientSecret: generatedSecret() };
      await env.upstream.registerClient({ ...upstreamClient, redirectUris: [`${env.tesseraUrl}/oidc/${CONNECTION}/callback`] });
      assert.equal((await env.admin('POST', `organizations/${ORGANIZATION}/connections`, {
        Id: CONNECTION, Protocol: 'oidc', Authority: env.upstream.issuer, ClientId: upstreamClient.clientId, ClientSecret: upstreamClient.clientSecret,
      })).status, 201);
      const siem = await env.admin('POST', 'signal-receivers', {
        Id: 'stanns-siem', Endpoint: receiver.url, Authorization: authorization, Organizations: [ORGANIZATION],
      });
      assert.equal(siem.status, 201, JSON.stringify(siem.body));

      const till = await env.client(env.app.till.id);
      const { issuer, jwks_uri: jwksUri } = till.serverMetadata();
      const jwks = jose.createRemoteJWKSet(new URL(jwksUri));
      const parameters = { connection: CONNECTION };

      // Carol signs in to the till from London...
      const home = await signIn(env.browser({ forwardedFor: LONDON }), till, { redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: 'stm-1003', parameters });
      const { sub, sid, org } = home.tokens.claims();
      assert.equal(org, ORGANIZATION);
      const logoutsBefore = env.backchannel.till.received.length;

      // ...and, minutes later, someone signs in as her from Mountain View.
      await assert.rejects(
        authorize(env.browser({ forwardedFor: MOUNTAIN_VIEW }), till, { redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: 'stm-1003', parameters }),
        /sign_in_blocked/, 'the second sign-in ends on the refusal page');
      const refused = performance.now();

      // The till hears the London session end, and the SIEM the revocation and the risk, within 2 s.
      await env.backchannel.till.waitFor(logoutsBefore + 1, 2_000);
      const logout = env.backchannel.till.received.at(-1);
      const { payload: logoutClaims } = await jose.jwtVerify(logout.logoutToken, jwks, { issuer, audience: env.app.till.id, typ: 'logout+jwt' });
      assert.deepEqual([logoutClaims.sub, logoutClaims.sid], [sub, sid]);
      assert.ok(LOGOUT_EVENT in logoutClaims.events);
      assert.ok(logout.at - refused < 2_000, `the logout token arrived ${Math.round(logout.at - refused)} ms after the refusal`);
      await receiver.waitFor(2, 2_000);
      const events = {};
      for (const arrived of receiver.received) {
        assert.ok(arrived.authorized);
        const { payload } = await jose.jwtVerify(arrived.set, jwks, { issuer, audience: 'stanns-siem', typ: 'secevent+jwt' });
        Object.assign(events, payload.events);
        assert.equal(payload.sub_id.user.sub, sub);
        assert.ok(arrived.at - refused < 2_000, `a SET arrived ${Math.round(arrived.at - refused)} ms after the refusal`);
      }

      assert.equal(events[SESSION_REVOKED]?.initiating_entity, 'policy');
      assert.equal(events[RISK_EVENT]?.current_level, 'HIGH');
      assert.match(events[RISK_EVENT]?.risk_reason ?? '', /TwoCountries/);

      // The audit row names both countries, the distance and the speed (it is written a moment after the refusal).
      const [row] = await anomalyRows(env, 1, (r) => r.organization === ORGANIZATION && r.user === sub);
      assert.equal(row.user, sub);
      assert.equal(row.ip_address, MOUNTAIN_VIEW);
      assert.deepEqual([row.detail.previous_country, row.detail.country, row.detail.previous_address], ['GB', 'US', LONDON]);
      assert.equal(row.detail.city, 'Mountain View');
      assert.ok(Number(row.detail.distance_km) > 8_000, row.detail.distance_km);
      assert.ok(Number(row.detail.speed_kmh) > 10_000, row.detail.speed_kmh);
      assert.equal(row.detail.action, 'revoke');
    } finally {
      await receiver.close();
    }
  });

  test('TwoCountries → revoke, a legitimate sequence: the same person signing in from two London networks raises nothing', async () => {
    const env = environment();
    const till = await env.client(env.app.till.id);
    const before = (await env.admin('GET', `audit?event=anomaly.detected&organization=${ORGANIZATION}`)).body.items.length;
    for (const address of [LONDON, LONDON_AGAIN]) {
      const signedIn = await signIn(env.browser({ forwardedFor: address }), till, {
        redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: 'stm-1004', parameters: { connection: CONNECTION },
      });
      assert.equal(signedIn.tokens.claims().org, ORGANIZATION);
    }

    assert.equal((await env.admin('GET', `audit?event=anomaly.detected&organization=${ORGANIZATION}`)).body.items.length, before);
  });

  for (const row of ROWS) {
    test(`${row.rule} → ${row.action}: ${row.says}`, async () => {
      const env = environment();
      const onboarded = await onboard(env, row);
      try {
        await (row.rule === 'TokenUsedElsewhere' ? refreshElsewhere : signInElsewhere)(env, row, onboarded);
      } finally {
        await onboarded.receiver.close();
      }
    });
  }

  test(`FailureBurst → block (global): ${FAILURE_BURST.MaxFailuresPerAddress} wrong client secrets within a minute from one address behind the proxy lock that address out with 429 and Retry-After, not the client`, async () => {
    const env = environment();
    const orders = env.services.orders;
    const { token_endpoint: tokenEndpoint } = (await env.client(orders.id)).serverMetadata();
    const token = (secret, address) => fetch(tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(orders.id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': address,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'write:orders' }),
      signal: AbortSignal.timeout(15_000),
    });

    // Failures are counted per minute of the clock: start the burst well inside one.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5_000) await new Promise((resolve) => setTimeout(resolve, left + 250));
    for (let failure = 1; failure <= FAILURE_BURST.MaxFailuresPerAddress; failure += 1) {
      const answer = await token(generatedSecret(), GUESSER);
      assert.equal(answer.status, 401, `guess ${failure}`);
      assert.equal((await answer.json()).error, 'invalid_client');
    }

    // Now even the right secret is refused from that address, before it is looked at...
    const locked = await token(orders.secret, GUESSER);
    assert.equal(locked.status, 429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${locked.headers.get('retry-after')}`);
    assert.equal((await locked.json()).error, 'temporarily_unavailable');
    const discovery = await fetch(`${env.tesseraUrl}/.well-known/openid-configuration`, { headers: { 'x-forwarded-for': GUESSER } });
    assert.equal(discovery.status, 200, 'discovery stays open to a locked-out address');
    await discovery.body?.cancel();
    // ...while the client itself, from anywhere else, still gets its token.
    const elsewhere = await token(orders.secret, '198.51.100.8');
    assert.equal(elsewhere.status, 200);
    await elsewhere.body?.cancel();

    const [row] = await anomalyRows(env, 1, (r) => r.detail?.rule === 'FailureBurst' && r.detail.key === GUESSER);
    assert.equal(row.ip_address, GUESSER);
    assert.equal(row.organization, null, 'failures are counted before anyone knows whose they are');
    assert.equal(row.reason, 'FailureBurst: block');
    assert.deepEqual(
      [row.detail.counted, row.detail.failures, row.detail.per_minute_limit, row.detail.last_failure, row.detail.lockout_seconds, row.detail.strike, row.detail.taken],
      ['address', String(FAILURE_BURST.MaxFailuresPerAddress), String(FAILURE_BURST.MaxFailuresPerAddress), 'invalid_client', '60', '1', 'block']);
  });
});

/** A row's organization through the Admin API: its one rule, an OIDC connection to the upstream, and its SIEM as a receiver. */
async function onboard(env, { rule, action, organization, name }) {
  const created = await env.admin('POST', 'organizations', {
    Id: organization, DisplayName: name, Domains: [`${organization}.example`],
    Anomaly: { Rules: [{ Rule: rule, Action: action }] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const connection = `${organization}-oidc`;
  const upstreamClient = { clientId: `tessera-${organization}`, clientSecret: generatedSecret() };
  await env.upstream.registerClient({ ...upstreamClient, redirectUris: [`${env.tesseraUrl}/oidc/${connection}/callback`] });
  const made = await env.admin('POST', `organizations/${organization}/connections`, {
    Id: connection, Protocol: 'oidc', Authority: env.upstream.issuer, ClientId: upstreamClient.clientId, ClientSecret: upstreamClient.clientSecret,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const authorization = `Bearer ${generatedSecret()}`;
  const receiver = await startSetReceiver(authorization);
  const audience = `${organization}-siem`;
  const siem = await env.admin('POST', 'signal-receivers', { Id: audience, Endpoint: receiver.url, Authorization: authorization, Organizations: [organization] });
  if (siem.status !== 201) await receiver.close();
  assert.equal(siem.status, 201, JSON.stringify(siem.body));
  return { parameters: { connection }, upstreamClientId: upstreamClient.clientId, receiver, audience };
}

/** A sign-in to the till from London, then one as the same user from Mountain View, and what the action made of it. */
async function signInElsewhere(env, row, { parameters, upstreamClientId, receiver, audience }) {
  const expected = ACTIONS[row.action];
  const till = await env.client(env.app.till.id);
  const options = { redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: row.account, parameters };
  const home = await signIn(env.browser({ forwardedFor: LONDON }), till, options);
  const { sub, sid, org } = home.tokens.claims();
  assert.equal(org, row.organization);
  const logoutsBefore = env.backchannel.till.received.length;

  // The upstream's own account of the sign-in from Mountain View: each login form it showed for this connection, and why.
  const logins = [];
  const started = (ctx, prompt) => {
    if (ctx.oidc.client?.clientId === upstreamClientId && prompt.name === 'login') logins.push(prompt.reasons);
  };
  const away = env.browser({ forwardedFor: MOUNTAIN_VIEW });
  let reference;
  env.upstream.provider.on('interaction.started', started);
  try {
    if (expected.outcome === 'refused') {
      const refusal = await authorize(away, till, options).then(() => assert.fail('the sign-in from Mountain View went through'), (error) => error);
      assert.match(refusal.message, /sign_in_blocked/);
      reference = /<code class="reference">([^<]+)<\/code>/.exec(refusal.page?.body ?? '')?.[1];
      assert.ok(reference, 'the refusal page carries a support reference');
    } else {
      const second = await signIn(away, till, options);
      assert.equal(second.tokens.claims().sub, sub, 'the same user, signed in from Mountain View');
      assert.notEqual(second.tokens.claims().sid, sid);
    }
  } finally {
    env.upstream.provider.off('interaction.started', started);
  }
  const answered = performance.now();

  const upstreamRequests = away.history.filter((line) => line.startsWith(`GET ${env.upstream.issuer}/auth?`)).map((line) => new URL(line.slice(4)));
  if (expected.outcome === 'signed in again upstream') {
    assert.equal(upstreamRequests.length, 2, away.history.join('\n'));
    assert.equal(upstreamRequests[0].searchParams.get('prompt'), null);
    assert.equal(upstreamRequests[1].searchParams.get('prompt'), 'login', 'the challenge asks the upstream to sign the person in afresh');
    assert.equal(logins.length, 2, 'the upstream showed its login form again');
    assert.ok(logins[1].includes('login_prompt'), `the second login form was for prompt=login: ${logins[1]}`);
  } else {
    assert.equal(upstreamRequests.length, 1, away.history.join('\n'));
    assert.equal(logins.length, 1);
  }

  await expectSignals(env, receiver, audience, { rule: row.rule, sub, organization: row.organization, events: expected.signals, since: answered });
  // The London session lives on unless the action ends it; the orders API, introspecting its token, sees which.
  const ordersApi = await env.client(env.services.ordersApi.id);
  const introspected = await client.tokenIntrospection(ordersApi, home.tokens.access_token);
  assert.equal(introspected.active, !expected.signals.includes(SESSION_REVOKED), JSON.stringify(introspected));
  if (expected.signals.includes(SESSION_REVOKED)) {
    // The till hears its London session end within 2 s.
    await env.backchannel.till.waitFor(logoutsBefore + 1, 2_000);
    const logout = env.backchannel.till.received.at(-1);
    const { issuer, jwks } = keys(till);
    const { payload } = await jose.jwtVerify(logout.logoutToken, jwks, { issuer, audience: env.app.till.id, typ: 'logout+jwt' });
    assert.deepEqual([payload.sub, payload.sid], [sub, sid]);
    assert.ok(logout.at - answered < 2_000, `the logout token arrived ${Math.round(logout.at - answered)} ms after the refusal`);
  }

  const rows = await anomalyRows(env, row.action === 'challenge' ? 2 : 1, (r) => r.organization === row.organization);
  for (const audit of rows) expectEvidence(audit, row, sub);
  if (row.action === 'challenge') {
    // One row when the challenge is asked, one when its answer comes back and is let through.
    assert.deepEqual(rows.map((r) => r.reason), ['TwoCountries: challenge', 'TwoCountries: challenge (passed: the person signed in again)']);
  }

  if (reference) assert.equal(rows.at(-1).detail.reference, reference, "the page's reference finds the audit row");
  if (row.action === 'disable') {
    await assert.rejects(authorize(env.browser({ forwardedFor: LONDON }), till, options), /user_disabled/, 'a disabled account cannot sign in, even from home');
  }
}

/** A sign-in to app-one from London, a refresh from London, then one from Mountain View with the newest refresh token. */
async function refreshElsewhere(env, row, { parameters, receiver, audience }) {
  const app = await env.client(env.app.one.id);
  const home = await signIn(env.browser({ forwardedFor: LONDON }), app, {
    redirectUri: env.app.one.redirectUri, scope: 'openid offline_access', account: row.account, parameters,
  });
  const { sub, sid, org } = home.tokens.claims();
  assert.equal(org, row.organization);
  assert.ok(home.tokens.refresh_token);

  const london = await client.refreshTokenGrant(await behind(env, env.app.one.id, LONDON_AGAIN), home.tokens.refresh_token);
  assert.ok(london.refresh_token, 'another network in the same country is where the token belongs');
  const refusal = await client.refreshTokenGrant(await behind(env, env.app.one.id, MOUNTAIN_VIEW), london.refresh_token)
    .then(() => assert.fail('the refresh from Mountain View went through'), (error) => error);
  oauthError('invalid_grant')(refusal);
  const answered = performance.now();
  const reference = /\(reference ([^)]+)\)/.exec(refusal.error_description ?? '')?.[1];
  assert.ok(reference, refusal.error_description);

  await expectSignals(env, receiver, audience, { rule: row.rule, sub, organization: row.organization, events: ACTIONS[row.action].signals, since: answered });
  // revoke took effect within the request: the session's tokens are gone from London too.
  await assert.rejects(client.refreshTokenGrant(await behind(env, env.app.one.id, LONDON), london.refresh_token), oauthError('invalid_grant'));

  const [audit] = await anomalyRows(env, 1, (r) => r.organization === row.organization);
  expectEvidence(audit, row, sub);
  assert.deepEqual([audit.detail.request, audit.detail.sid, audit.detail.reference], ['refresh', sid, reference]);
}

/** An openid-client Configuration for a client behind the trusted proxy, which names `address` to Tessera. */
async function behind(env, id, address) {
  const config = await env.client(id);
  const send = config[client.customFetch];
  config[client.customFetch] = (url, options) => {
    const headers = new Headers(options.headers);
    headers.set('x-forwarded-for', address);
    return send(url, { ...options, headers });
  };
  return config;
}

function keys(config) {
  const { issuer, jwks_uri: jwksUri } = config.serverMetadata();
  return { issuer, jwks: jose.createRemoteJWKSet(new URL(jwksUri)) };
}

/**
 * The receiver hears exactly `events` within 2 s of `since`, each a SET about `sub` verified with jose against
 * discovery's JWKS and issuer, the risk naming `rule`; with none expected, it hears nothing for a second.
 */
async function expectSignals(env, receiver, audience, { rule, sub, organization, events, since }) {
  if (events.length === 0) {
    await assert.rejects(receiver.waitFor(1, 1_000), /received 0 requests/, 'log sends nothing');
    return;
  }

  await receiver.waitFor(events.length, 2_000);
  const { issuer, jwks } = keys(await env.client(env.app.till.id));
  const heard = [];
  for (const arrived of receiver.received) {
    assert.ok(arrived.authorized);
    assert.ok(arrived.at - since < 2_000, `a SET arrived ${Math.round(arrived.at - since)} ms after the answer`);
    const { payload } = await jose.jwtVerify(arrived.set, jwks, { issuer, audience, typ: 'secevent+jwt' });
    assert.equal(payload.sub_id.user.sub, sub);
    assert.equal(payload.sub_id.tenant.id, organization);
    for (const [type, event] of Object.entries(payload.events)) {
      heard.push(type);
      if (type === RISK_EVENT) {
        assert.deepEqual([event.current_level, event.initiating_entity], ['HIGH', 'policy']);
        assert.match(event.risk_reason, new RegExp(rule));
      }
      if (type === SESSION_REVOKED) assert.equal(event.initiating_entity, 'policy');
      if (type === ACCOUNT_DISABLED) assert.equal(event.reason, 'hijacking');
    }
  }

  assert.deepEqual(heard.sort(), [...events].sort());
}

/** The row names the rule, the action, both places (London, then Mountain View) and the rule's own evidence. */
function expectEvidence(row, { rule, action }, sub) {
  assert.equal(row.user, sub);
  assert.equal(row.ip_address, MOUNTAIN_VIEW);
  const { detail } = row;
  assert.deepEqual([detail.rule, detail.action, detail.taken], [rule, action, action]);
  assert.deepEqual(
    [detail.previous_country, detail.previous_city, detail.previous_address, detail.country, detail.city, detail.address],
    ['GB', 'London', LONDON, 'US', 'Mountain View', MOUNTAIN_VIEW]);
  EVIDENCE[rule](detail);
}

function apart(detail) {
  assert.ok(Number(detail.distance_km) > 8_000 && Number(detail.distance_km) < 9_500, `distance_km ${detail.distance_km}`);
}

/** Seconds apart, so far faster than any plane. */
function faster(detail) {
  assert.ok(Number(detail.speed_kmh) > 10_000, `speed_kmh ${detail.speed_kmh}`);
}

/** The anomaly.detected rows that `match`, once there are `count` of them (the audit log is written a moment after). */
async function anomalyRows(env, count, match) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const answer = await env.admin('GET', 'audit?event=anomaly.detected&limit=1000');
    assert.equal(answer.status, 200);
    const rows = answer.body.items.filter(match);
    if (rows.length >= count || Date.now() > deadline) {
      assert.equal(rows.length, count, JSON.stringify(rows));
      return rows;
    }

    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
