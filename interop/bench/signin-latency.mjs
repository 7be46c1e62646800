// Sign-in latency with anomaly detection on and off, on one Tessera: the interop environment (lib/harness.mjs: a
// live `tessera serve`, oidc-provider as the upstream IdP, DB-IP City Lite as the GeoIP database, this process as a
// trusted proxy) and two organizations made through the Admin API, alike but for their anomaly rules: "off" has none,
// "on" has every location rule with Action log, so nothing is refused and every rule runs (GeoIP lookup, history
// read, observation write). Each sign-in is a whole brokered one from a fresh browser (authorize at Tessera, the
// upstream IdP's login and consent, the callback, the code redeemed at /token with openid-client), timed from the
// client, one at a time, through the trusted proxy with the same public address every time (so no rule fires).
// The organizations take turns off, on, on, off, off, on, … (each goes first as often); warm-up sign-ins first.
//
//   node bench/signin-latency.mjs         (from interop/; bash bench/signin-latency.sh builds Tessera and runs it)
//
// Environment: SIGNINS=200 and WARMUP_SIGNINS=20 per organization; FORWARDED_FOR=81.2.69.142 (London in DB-IP City
// Lite); RESULTS=<file> for every timing as JSON; TESSERA_DLL and the harness's other settings (interop/README.md).
// Not part of `npm test`. Exits 1 if a sign-in fails or a rule fired.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signIn } from '../lib/flows.mjs';
import { generatedSecret, ORDERS_SCOPE, start, stop } from '../lib/harness.mjs';

const SIGNINS = positive('SIGNINS', 200);
const WARMUP_SIGNINS = positive('WARMUP_SIGNINS', 20, { zero: true });
const FORWARDED_FOR = process.env.FORWARDED_FOR || '81.2.69.142';
const ACCOUNT = 'stm-1002'; // bob: one upstream account, a user of his own in each organization
const LOCATION_RULES = ['ImpossibleTravel', 'TwoCountries', 'NewCountry', 'TokenUsedElsewhere'];
const ORGANIZATIONS = {
  off: { id: 'bench-rules-off', connection: 'bench-rules-off-oidc', anomaly: undefined },
  on: { id: 'bench-rules-on', connection: 'bench-rules-on-oidc', anomaly: { Rules: LOCATION_RULES.map((Rule) => ({ Rule, Action: 'log' })) } },
};

const log = (message) => console.log(`[signin-latency] ${message}`);

let env;
try {
  env = await start();
  const tessera = tesseraProcess(join(env.dir, 'tessera.json'));
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  for (const organization of Object.values(ORGANIZATIONS)) await onboard(env, organization);
  const till = await env.client(env.app.till.id);

  const timings = { off: [], on: [] };
  const cpuTicks = { off: 0, on: 0 };
  const run = async (kind, measured) => {
    const { id, connection } = ORGANIZATIONS[kind];
    const browser = env.browser({ forwardedFor: FORWARDED_FOR });
    const ticks = tessera ? cpuTicksOf(tessera) : 0;
    const started = performance.now();
    const { tokens } = await signIn(browser, till, { redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account: ACCOUNT, parameters: { connection } });
    const elapsed = performance.now() - started;
    const used = tessera ? cpuTicksOf(tessera) - ticks : 0;
    const org = tokens.claims().org;
    if (org !== id) throw new Error(`a sign-in through ${connection} gave org ${org}, not ${id}`);
    if (measured) {
      timings[kind].push(elapsed);
      cpuTicks[kind] += used;
    }
  };

  const order = (i) => (((i + 1) >> 1) % 2 === 0 ? 'off' : 'on'); // off, on, on, off, off, on, …
  log(`${WARMUP_SIGNINS} warm-up and ${SIGNINS} measured sign-ins per organization, X-Forwarded-For ${FORWARDED_FOR}, account ${ACCOUNT}`);
  for (let i = 0; i < 2 * WARMUP_SIGNINS; i += 1) await run(order(i), false);
  for (let i = 0; i < 2 * SIGNINS; i += 1) {
    await run(order(i), true);
    if ((i + 1) % 100 === 0) log(`${i + 1} of ${2 * SIGNINS} measured sign-ins`);
  }

  // Nothing may have fired (the measurement would include a rule's response), and every sign-in of "on" was seen.
  const detected = await env.admin('GET', `audit?event=anomaly.detected&organization=${ORGANIZATIONS.on.id}`);
  if (detected.status !== 200) throw new Error(`the audit query answered ${detected.status}`);
  if (detected.body.items.length > 0) throw new Error(`rules fired: ${JSON.stringify(detected.body.items.map((row) => row.reason))}`);
  const observations = observationsByOrganization(join(env.dir, 'tessera.db'));
  if (observations) {
    const on = observations[ORGANIZATIONS.on.id];
    const expected = WARMUP_SIGNINS + SIGNINS;
    if (!on || on.count !== expected || !on.allLocated) {
      throw new Error(`expected ${expected} located observations of ${ORGANIZATIONS.on.id}, found ${JSON.stringify(observations)}`);
    }

    if (observations[ORGANIZATIONS.off.id]) throw new Error(`${ORGANIZATIONS.off.id} has observations: ${JSON.stringify(observations)}`);
    log(`${ORGANIZATIONS.on.id}: ${on.count} observations recorded, all placed in ${on.places}; ${ORGANIZATIONS.off.id}: none; no rule fired`);
  } else {
    log('sqlite3 is missing: the observations were not counted (no rule fired)');
  }

  const summary = {};
  for (const kind of ['off', 'on']) {
    const sorted = [...timings[kind]].sort((a, b) => a - b);
    summary[kind] = {
      organization: ORGANIZATIONS[kind].id,
      signIns: sorted.length,
      medianMs: median(sorted),
      p90Ms: percentile(sorted, 90),
      p99Ms: percentile(sorted, 99),
      minMs: sorted[0],
      maxMs: sorted.at(-1),
      tesseraCpuMsPerSignIn: tessera ? (cpuTicks[kind] / ticksPerSecond * 1000) / sorted.length : null,
    };
  }

  const ms = (value) => (value === null ? 'n/a' : value.toFixed(1));
  console.log('');
  console.log('| rules | organization | sign-ins | median ms | p90 ms | p99 ms | min ms | max ms | Tessera CPU ms per sign-in |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [kind, s] of Object.entries(summary)) {
    console.log(`| ${kind} | ${s.organization} | ${s.signIns} | ${ms(s.medianMs)} | ${ms(s.p90Ms)} | ${ms(s.p99Ms)} | ${ms(s.minMs)} | ${ms(s.maxMs)} | ${ms(s.tesseraCpuMsPerSignIn)} |`);
  }

  const { off, on } = summary;
  const cpu = tessera ? `; Tessera CPU per sign-in off ${ms(off.tesseraCpuMsPerSignIn)} ms, on ${ms(on.tesseraCpuMsPerSignIn)} ms` : '';
  console.log('');
  console.log(`sign-in latency: off median ${ms(off.medianMs)} ms, on median ${ms(on.medianMs)} ms, added ${ms(on.medianMs - off.medianMs)} ms `
    + `(p90 off ${ms(off.p90Ms)} ms, on ${ms(on.p90Ms)} ms; p99 off ${ms(off.p99Ms)} ms, on ${ms(on.p99Ms)} ms)${cpu}`);
  if (process.env.RESULTS) {
    writeFileSync(process.env.RESULTS, `${JSON.stringify({ forwardedFor: FORWARDED_FOR, warmupSignIns: WARMUP_SIGNINS, summary, timings }, null, 2)}\n`);
  }
} catch (error) {
  console.error(`[signin-latency] error: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await stop();
}

/** An organization with one OIDC connection to the upstream IdP (a client registered there for it), as area 17 makes one. */
async function onboard(env, organization) {
  const created = await env.admin('POST', 'organizations', {
    Id: organization.id, DisplayName: organization.id, Domains: [`${organization.id}.example`],
    ...(organization.anomaly ? { Anomaly: organization.anomaly } : {}),
  });
  if (created.status !== 201) throw new Error(`creating ${organization.id}: ${created.status} ${JSON.stringify(created.body)}`);
  const upstreamClient = { clientId: `tessera-${organization.id}`, clientSecret: generatedSecret() };
  await env.upstream.registerClient({ ...upstreamClient, redirectUris: [`${env.tesseraUrl}/oidc/${organization.connection}/callback`] });
  const connection = await env.admin('POST', `organizations/${organization.id}/connections`, {
    Id: organization.connection, Protocol: 'oidc', Authority: env.upstream.issuer, ClientId: upstreamClient.clientId, ClientSecret: upstreamClient.clientSecret,
  });
  if (connection.status !== 201) throw new Error(`connecting ${organization.id}: ${connection.status} ${JSON.stringify(connection.body)}`);
}

/** The process id of the Tessera the harness started with this configuration file (a child of this process). */
function tesseraProcess(configFile) {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(configFile)) return Number(entry);
    } catch { /* the process ended meanwhile */ }
  }

  log('Tessera\'s process was not found in /proc: no CPU figures');
  return null;
}

/** User and system CPU of every thread of a process so far, in clock ticks (as bench/lib.sh reads it). */
function cpuTicksOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Observations per organization from Tessera's SQLite database (read-only), or null without the sqlite3 client. */
function observationsByOrganization(database) {
  let output;
  try {
    output = execFileSync('sqlite3', ['-readonly', '-separator', '\t', database,
      "SELECT OrganizationId, count(*), count(Country), group_concat(DISTINCT coalesce(Country, '?') || ' ' || coalesce(City, '?')) FROM risk_observations GROUP BY OrganizationId"],
    { encoding: 'utf8' });
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }

  return Object.fromEntries(output.trim().split('\n').filter(Boolean).map((line) => {
    const [organization, count, located, places] = line.split('\t');
    return [organization, { count: Number(count), allLocated: Number(located) === Number(count), places }];
  }));
}

function median(sorted) {
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile. */
function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function positive(name, fallback, { zero = false } = {}) {
  const value = process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]);
  if (!Number.isInteger(value) || value < (zero ? 0 : 1)) throw new Error(`${name} must be a whole number${zero ? '' : ' above 0'}`);
  return value;
}
