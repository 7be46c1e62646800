// Whole brokered sign-ins under a bounded load, with the CPU of each party apart: SIGNIN_CONCURRENCY virtual
// browsers, each repeating a sign-in from a fresh cookie jar (authorize at Tessera with PKCE through openid-client,
// the upstream oidc-provider's login and consent, the callback, the code redeemed at /token) as soon as its last one
// ended, so exactly that many are in flight and the rate is whatever the machine sustains. The interop environment
// (lib/harness.mjs) runs Tessera, with the upstream IdP in an OS process of its own, so that /proc can tell apart
// Tessera's CPU, the upstream's, this generator's and the rest of the machine's around each measured window.
//
// One organization made through the Admin API as signin-latency.mjs makes its "off" one (an OIDC connection to the
// upstream, no anomaly rules); each browser signs in as an upstream account of its own (the suite's accounts, in
// turn), so concurrent sign-ins are of different users, as on a real morning.
//
//   node bench/signin-load.mjs         (from interop/; bash bench/signin-load.sh builds Tessera and runs it)
//
// Environment: SIGNIN_CONCURRENCY=8 browsers; WARMUP=20 s (measured and shown, not counted), then RUNS=3 runs of
// DURATION=20 s; IDLE=5 s of Tessera idle after the runs (its background CPU); FORWARDED_FOR=81.2.69.142 on every
// browser request, as signin-latency.mjs sends it (empty for none); RESULTS=<file> for every figure as JSON;
// TESSERA_DLL and the harness's other settings (interop/README.md). Profiles, each in a run of its own after the
// others, not counted (the profiler costs Tessera CPU), sampling Tessera for up to 15 s:
//   SIGNIN_TRACE=<file.nettrace>  dotnet-trace's thread-time samples (every thread ~100 Hz, waiting or running: where
//                                 the wall time goes); DOTNET_TRACE names the tool (~/.dotnet/tools/dotnet-trace)
//   SIGNIN_PERF=<file.data>       perf's CPU samples with call graphs (where the CPU goes); Tessera must have been
//                                 started with DOTNET_PerfMapEnabled=1 for .NET frames to have names
// Not part of `npm test`. Exits 1 if any sign-in failed or the upstream logged an error.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { signIn } from '../lib/flows.mjs';
import { generatedSecret, ORDERS_SCOPE, start, stop } from '../lib/harness.mjs';
import { ACCOUNTS } from '../lib/upstream.mjs';

const CONCURRENCY = positive('SIGNIN_CONCURRENCY', 8);
const WARMUP = positive('WARMUP', 20, { zero: true });
const DURATION = positive('DURATION', 20);
const RUNS = positive('RUNS', 3);
const IDLE = positive('IDLE', 5, { zero: true });
const FORWARDED_FOR = process.env.FORWARDED_FOR ?? '81.2.69.142';
const PROFILE_SECONDS = Math.min(15, DURATION);
const ORGANIZATION = { id: 'bench-signin', connection: 'bench-signin-oidc' };
const ACCOUNT_IDS = Object.keys(ACCOUNTS);
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })); // /proc's CPU times are in these ticks
const SHOWN_ERRORS = 3;

const log = (message) => console.log(`[signin-load] ${message}`);

let env;
try {
  env = await start({ upstreamProcess: true });
  await onboard(env);
  const till = await env.client(env.app.till.id);
  // openid-client's requests to Tessera (the code redemption; discovery was above): counted, not recorded as the
  // harness records tokens, which would keep every token of the run in memory.
  let clientRequests = 0;
  till[client.customFetch] = (url, options) => { clientRequests += 1; return fetch(url, options); };
  const pids = { tessera: env.tesseraPid, upstream: env.upstream.pid, generator: process.pid };
  log(`processes: Tessera ${pids.tessera}, upstream IdP ${pids.upstream}, generator ${pids.generator}`);
  log(`${CONCURRENCY} browsers, ${WARMUP} s warm-up, then ${RUNS} x ${DURATION} s; accounts ${ACCOUNT_IDS.slice(0, CONCURRENCY).join(' ')}${CONCURRENCY > ACCOUNT_IDS.length ? ' (in turn)' : ''}; `
    + `X-Forwarded-For ${FORWARDED_FOR || 'none'}`);

  /**
   * Every browser signs in again and again until `seconds` are up; the window ends when the last sign-in begun in it
   * has ended, so every sign-in counted is whole and its CPU is inside the window. Answers the run's figures.
   */
  const load = async (label, seconds, { waitForQuiet = true } = {}) => {
    if (waitForQuiet) await quiet();
    const latencies = [];
    const failures = [];
    const requests = { tessera: 0, upstream: 0 };
    const clientBefore = clientRequests;
    const upstreamBefore = (await env.upstream.stats()).counts;
    const before = snapshot(pids);
    const deadline = before.at + seconds * 1000;
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, i) => {
      const account = ACCOUNT_IDS[i % ACCOUNT_IDS.length];
      while (performance.now() < deadline) {
        const browser = env.browser({ forwardedFor: FORWARDED_FOR || undefined });
        const started = performance.now();
        try {
          const { tokens } = await signIn(browser, till, {
            redirectUri: env.app.till.redirectUri, scope: ORDERS_SCOPE, account, parameters: { connection: ORGANIZATION.connection },
          });
          const org = tokens.claims()?.org;
          if (org !== ORGANIZATION.id) throw new Error(`an ID token for org ${org}, not ${ORGANIZATION.id}`);
          if (typeof tokens.access_token !== 'string') throw new Error('no access token');
          latencies.push(performance.now() - started);
        } catch (error) {
          failures.push(error);
          if (failures.length <= SHOWN_ERRORS) log(`${label}: sign-in as ${account} failed: ${error.message}`);
        }

        for (const entry of browser.history) {
          const url = entry.slice(entry.indexOf(' ') + 1);
          if (url.startsWith(`${env.tesseraUrl}/`)) requests.tessera += 1;
          else if (url.startsWith(`${env.upstream.issuer}/`)) requests.upstream += 1;
        }
      }
    }));
    const after = snapshot(pids);
    const upstreamAfter = (await env.upstream.stats()).counts;
    await settle(pids.tessera);

    const wall = (after.at - before.at) / 1000;
    const signIns = latencies.length;
    const cpu = Object.fromEntries(['tessera', 'upstream', 'generator', 'machine'].map((name) => [name, (after[name] - before[name]) / HZ]));
    const other = Math.max(0, cpu.machine - cpu.tessera - cpu.upstream - cpu.generator);
    latencies.sort((a, b) => a - b);
    // Tessera's own calls to the upstream (the code redeemed there, userinfo) besides the browser's visits.
    const backchannel = (upstreamAfter.token - upstreamBefore.token) + (upstreamAfter.userinfo - upstreamBefore.userinfo);
    const perSignIn = (value) => (signIns ? value / signIns : null);
    return {
      label,
      seconds: wall,
      signIns,
      errors: failures.length,
      rate: signIns / wall,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cpuSeconds: { ...cpu, other },
      cpuPercent: Object.fromEntries(Object.entries({ ...cpu, other }).map(([name, s]) => [name, (s / wall) * 100])),
      cpuMsPerSignIn: {
        tessera: perSignIn(cpu.tessera * 1000), upstream: perSignIn(cpu.upstream * 1000), generator: perSignIn(cpu.generator * 1000),
      },
      tesseraRequestsPerSignIn: perSignIn(requests.tessera + clientRequests - clientBefore),
      upstreamRequestsPerSignIn: perSignIn(requests.upstream + backchannel),
    };
  };

  const rows = [];
  if (WARMUP > 0) {
    const warmup = await load('warm-up', WARMUP);
    rows.push(warmup);
    log(`warm-up: ${line(warmup)} (not counted)`);
  }

  for (let run = 1; run <= RUNS; run += 1) {
    const result = await load(String(run), DURATION);
    rows.push(result);
    log(`run ${run}: ${line(result)}`);
  }

  const profiled = [];
  for (const profiler of profilers(pids.tessera)) profiled.push(await profiledRun(load, profiler));

  // Tessera's CPU with nothing to do (timers, the audit checkpoint writer, the GC): the part of a run's CPU that
  // would be there without sign-ins, to set against the per-sign-in figure.
  let idle = null;
  if (IDLE > 0) {
    const before = snapshot(pids);
    await sleep(IDLE * 1000);
    const after = snapshot(pids);
    const wall = (after.at - before.at) / 1000;
    idle = { seconds: wall, tesseraMsPerSecond: ((after.tessera - before.tessera) / HZ / wall) * 1000, upstreamMsPerSecond: ((after.upstream - before.upstream) / HZ / wall) * 1000 };
  }

  const { errors: upstreamErrors } = await env.upstream.stats();
  const measured = rows.filter((row) => row.label !== 'warm-up');
  report(rows, measured, idle, profiled);
  if (process.env.RESULTS) {
    writeFileSync(process.env.RESULTS, `${JSON.stringify({
      concurrency: CONCURRENCY, warmupSeconds: WARMUP, durationSeconds: DURATION, forwardedFor: FORWARDED_FOR, rows, idle, profiled, upstreamErrors,
    }, null, 2)}\n`);
  }

  const errors = [...rows, ...profiled].reduce((sum, row) => sum + row.errors, 0);
  if (upstreamErrors.length > 0) log(`the upstream IdP logged ${upstreamErrors.length} errors, the first: ${upstreamErrors[0]}`);
  if (errors > 0 || upstreamErrors.length > 0) {
    log(`INVALID: ${errors} sign-ins failed`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`[signin-load] error: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await stop();
}

/** An organization with one OIDC connection to the upstream IdP (a client registered there for it), no anomaly rules. */
async function onboard(env) {
  const { id, connection } = ORGANIZATION;
  const created = await env.admin('POST', 'organizations', { Id: id, DisplayName: id, Domains: [`${id}.example`] });
  if (created.status !== 201) throw new Error(`creating ${id}: ${created.status} ${JSON.stringify(created.body)}`);
  const upstreamClient = { clientId: `tessera-${id}`, clientSecret: generatedSecret() };
  await env.upstream.registerClient({ ...upstreamClient, redirectUris: [`${env.tesseraUrl}/oidc/${connection}/callback`] });
  const made = await env.admin('POST', `organizations/${id}/connections`, {
    Id: connection, Protocol: 'oidc', Authority: env.upstream.issuer, ClientId: upstreamClient.clientId, ClientSecret: upstreamClient.clientSecret,
  });
  if (made.status !== 201) throw new Error(`connecting ${id}: ${made.status} ${JSON.stringify(made.body)}`);
}

/** The profilers asked for, as commands that sample Tessera for PROFILE_SECONDS and then end by themselves. */
function profilers(pid) {
  const list = [];
  if (process.env.SIGNIN_TRACE) {
    const tool = process.env.DOTNET_TRACE || join(homedir(), '.dotnet/tools/dotnet-trace');
    list.push({
      label: 'dotnet-trace',
      file: process.env.SIGNIN_TRACE,
      command: [tool, 'collect', '-p', String(pid), '--profile', 'dotnet-sampled-thread-time',
        '--duration', `00:00:00:${String(PROFILE_SECONDS).padStart(2, '0')}`, '-o', process.env.SIGNIN_TRACE],
    });
  }

  if (process.env.SIGNIN_PERF) {
    list.push({
      label: 'perf',
      file: process.env.SIGNIN_PERF,
      command: ['perf', 'record', '-F', '999', '-g', '-p', String(pid), '-o', process.env.SIGNIN_PERF, '--', 'sleep', String(PROFILE_SECONDS)],
    });
  }

  return list;
}

/**
 * One more run while a profiler samples Tessera; the load starts with the profiler and runs a few seconds past its end
 * (dotnet-trace takes a moment to attach), so that the profile sees only load. Not counted: profiling costs CPU.
 */
async function profiledRun(load, { label, file, command }) {
  await quiet();
  log(`profiling Tessera for ${PROFILE_SECONDS} s: ${command.join(' ')}`);
  const profiler = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  profiler.stderr.on('data', (chunk) => { stderr += chunk; });
  profiler.on('error', (error) => { stderr += error.message; }); // not found, say; 'close' follows
  const ended = new Promise((resolve) => { profiler.on('close', resolve); });
  const result = await load(label, PROFILE_SECONDS + 3, { waitForQuiet: false });
  const code = await ended;
  if (code !== 0) log(`${label} exited with ${code}: ${stderr.trim().slice(0, 500)}`);
  log(`${label} run: ${line(result)} (not counted); profile: ${file}`);
  return { ...result, file };
}

function report(rows, measured, idle, profiled) {
  const f = (value, digits = 1) => (value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits));
  const pct = (value) => `${value.toFixed(0)}%`;
  console.log('');
  console.log(`Whole brokered sign-ins, ${CONCURRENCY} browsers in a closed loop, ${DURATION} s per run (CPU in % of one core; the machine has ${cores()}):`);
  console.log('');
  console.log('| run | sign-ins/s | p50 ms | p99 ms | errors | CPU Tessera | CPU upstream | CPU generator | CPU other | Tessera CPU ms per sign-in | upstream CPU ms per sign-in | generator CPU ms per sign-in | Tessera requests per sign-in | Tessera CPU ms per request |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of [...rows, ...profiled]) {
    const c = row.cpuPercent;
    const m = row.cpuMsPerSignIn;
    console.log(`| ${row.label} | ${f(row.rate)} | ${f(row.p50Ms)} | ${f(row.p99Ms)} | ${row.errors} | ${pct(c.tessera)} | ${pct(c.upstream)} | ${pct(c.generator)} | ${pct(c.other)} `
      + `| ${f(m.tessera, 2)} | ${f(m.upstream, 2)} | ${f(m.generator, 2)} | ${f(row.tesseraRequestsPerSignIn)} | ${f(m.tessera / row.tesseraRequestsPerSignIn, 2)} |`);
  }

  const rate = median(measured.map((row) => row.rate));
  const tessera = median(measured.map((row) => row.cpuMsPerSignIn.tessera));
  const upstream = median(measured.map((row) => row.cpuMsPerSignIn.upstream));
  const requests = median(measured.map((row) => row.tesseraRequestsPerSignIn));
  console.log('');
  console.log(`median: ${f(rate)} sign-ins/s, Tessera ${f(tessera, 2)} ms of CPU per sign-in (${f(tessera / requests, 2)} ms per request, ${f(requests)} requests per sign-in), `
    + `upstream IdP ${f(upstream, 2)} ms; highest CPU other ${pct(Math.max(...measured.map((row) => row.cpuPercent.other)))}`);
  console.log(`upstream requests per sign-in (the browser's and Tessera's own): ${f(median(measured.map((row) => row.upstreamRequestsPerSignIn)))}`);
  if (idle) {
    console.log(`idle afterwards (${f(idle.seconds)} s): Tessera ${f(idle.tesseraMsPerSecond)} ms of CPU per second, upstream ${f(idle.upstreamMsPerSecond)} ms per second; `
      + `at ${f(rate)} sign-ins/s Tessera's idle rate would be ${f(idle.tesseraMsPerSecond / rate, 2)} ms per sign-in`);
  }

  for (const { label, file } of profiled) console.log(`the ${label} run is not in the medians (profiled); profile: ${file}`);
}

function line(row) {
  return `${row.signIns} sign-ins, ${row.rate.toFixed(1)}/s, p50 ${row.p50Ms?.toFixed(1)} ms, p99 ${row.p99Ms?.toFixed(1)} ms, errors ${row.errors}, `
    + `CPU ms per sign-in Tessera ${row.cpuMsPerSignIn.tessera?.toFixed(2)} upstream ${row.cpuMsPerSignIn.upstream?.toFixed(2)} generator ${row.cpuMsPerSignIn.generator?.toFixed(2)}, `
    + `CPU other ${row.cpuPercent.other.toFixed(0)}%`;
}

// --- CPU from /proc -------------------------------------------------------------------------------------------
/**
 * CPU ticks so far of Tessera and the upstream (each with any descendants), of this process alone (its descendants
 * are the servers, counted apart, and the harness's idle sample API, left in "other") and of the whole machine.
 */
function snapshot(pids) {
  const children = childrenByParent();
  return {
    at: performance.now(),
    tessera: treeTicks(pids.tessera, children),
    upstream: treeTicks(pids.upstream, children),
    generator: ticksOf(pids.generator),
    machine: machineTicks(),
  };
}

/** utime + stime of every thread of a process, in clock ticks (as bench/lib.sh reads it); 0 once it is gone. */
function ticksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function treeTicks(pid, children) {
  return ticksOf(pid) + (children.get(pid) ?? []).reduce((sum, child) => sum + treeTicks(child, children), 0);
}

function childrenByParent() {
  const children = new Map();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch { /* the process ended meanwhile */ }
  }

  return children;
}

/** Busy ticks of all cores: user nice system irq softirq steal, as bench/lib.sh counts them. */
function machineTicks() {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return user + nice + system + irq + softirq + steal;
}

function cores() {
  return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length;
}

/**
 * Waits (at most 10 s) for a lull on the machine (under 15% of a core for half a second), as bench/lib.sh does
 * before a run: other work on a shared machine skews a run. CPU other shows what happened during it anyway.
 */
async function quiet() {
  for (let i = 0; i < 20; i += 1) {
    const a = machineTicks();
    await sleep(500);
    if ((machineTicks() - a) / HZ / 0.5 < 0.15) return;
  }
}

/** Waits (at most 15 s) until Tessera is idle (under 5% of a core for half a second), so work it deferred (GC, audit
 * checkpoints, tiered JIT) lands before the next window opens, as bench/lib.sh's settle does. */
async function settle(pid) {
  for (let i = 0; i < 30; i += 1) {
    const a = ticksOf(pid);
    await sleep(500);
    if ((ticksOf(pid) - a) / HZ / 0.5 < 0.05) return;
  }

  log('warning: Tessera still busy 15 s after the run');
}

// --- figures --------------------------------------------------------------------------------------------------
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function median(values) {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted, p) {
  return sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : null;
}

function positive(name, fallback, { zero = false } = {}) {
  const value = process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]);
  if (!Number.isInteger(value) || value < (zero ? 0 : 1)) throw new Error(`${name} must be a whole number${zero ? '' : ' above 0'}`);
  return value;
}
