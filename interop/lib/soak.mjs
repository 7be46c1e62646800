// A soak: the cluster's mixed load (lib/cluster.mjs) for a long time, each node's resident memory, open file handles
// and threads sampled at every window, and the latency of each window. After a warm-up, memory and handles must stay
// within 10 % of where they were, latency must not drift upward, and no request may fail.
import { readdir, readFile } from 'node:fs/promises';
import { pause, percentile, runLoad } from './cluster.mjs';

/** How much a node's memory or handle count may move after the warm-up, as a share of its first sample then. */
export const FLAT = 0.10;

/**
 * p99 of the last quarter of windows against the first quarter after the warm-up: a drift of at most 10 %, plus a few
 * milliseconds, which the scheduling of a shared 2-core machine moves a p99 by on its own.
 */
const LATENCY_DRIFT = 0.10;
const LATENCY_SLACK_MS = 5;

async function sampleNode(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return {
    rssMb: Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 102.4) / 10,
    threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0),
    handles: (await readdir(`/proc/${pid}/fd`)).length,
  };
}

/**
 * Runs the load for `durationMs`, sampling every `windowMs`; answers the samples (one row per window: seconds since
 * the start, each node's figures), the windows' request counts, failures and latency percentiles, and the verdicts.
 */
export async function soak(world, { durationMs, windowMs, warmUpMs }) {
  const pids = world.nodePids();
  const started = performance.now();
  const samples = [{ atS: 0, nodes: await Promise.all(pids.map(sampleNode)) }];
  let running = true;
  const sampling = (async () => {
    for (let next = windowMs; running; next += windowMs) {
      await pause(Math.max(0, started + next - performance.now()));
      if (!running) break;
      samples.push({ atS: Math.round(next / 1000), nodes: await Promise.all(pids.map(sampleNode)) });
    }
  })();
  const load = await runLoad(world, { durationMs, churn: true });
  running = false;
  await sampling;

  const windows = [];
  for (let from = 0; from < durationMs; from += windowMs) {
    const inside = load.results.filter((r) => r.end - started >= from && r.end - started < from + windowMs);
    const latencies = inside.map((r) => r.end - r.start);
    windows.push({
      fromS: from / 1000,
      requests: inside.length,
      failed: inside.filter((r) => !r.ok).length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    });
  }

  return { samples, windows, failures: load.results.filter((r) => !r.ok), verdicts: judge(samples, windows, warmUpMs / 1000) };
}

/** Whether each node's memory and handles stayed within FLAT of their first sample after the warm-up, and latency did not drift. */
function judge(samples, windows, warmUpS) {
  const after = samples.filter((s) => s.atS >= warmUpS);
  const verdicts = [];
  for (let node = 0; node < (after[0]?.nodes.length ?? 0); node += 1) {
    for (const figure of ['rssMb', 'handles']) {
      const base = after[0].nodes[node][figure];
      const worst = Math.max(...after.map((s) => Math.abs(s.nodes[node][figure] - base) / base));
      verdicts.push({ what: `node ${node} ${figure}`, base, range: [Math.min(...after.map((s) => s.nodes[node][figure])), Math.max(...after.map((s) => s.nodes[node][figure]))], drift: worst, ok: worst <= FLAT });
    }
  }

  const measured = windows.filter((w) => w.fromS >= warmUpS && w.requests > 0);
  const quarter = Math.max(1, Math.floor(measured.length / 4));
  const median = (list) => percentile(list, 50);
  const first = median(measured.slice(0, quarter).map((w) => w.p99Ms));
  const last = median(measured.slice(-quarter).map((w) => w.p99Ms));
  verdicts.push({ what: 'p99 latency', base: first, range: [first, last], drift: first ? (last - first) / first : 0, ok: last <= first * (1 + LATENCY_DRIFT) + LATENCY_SLACK_MS });
  return verdicts;
}

/** The soak as text: the memory and handle curve of every node, each window's latency, and the verdicts. */
export function describeSoak({ samples, windows, failures, verdicts }) {
  const lines = ['  s | ' + samples[0].nodes.map((_, i) => `node ${i}: RSS MB, handles, threads`).join(' | ')];
  for (const s of samples) lines.push(`${String(s.atS).padStart(4)} | ${s.nodes.map((n) => `${n.rssMb}, ${n.handles}, ${n.threads}`).join(' | ')}`);
  lines.push('', ' from s | requests | failed | p50 ms | p99 ms');
  for (const w of windows) lines.push(`${String(w.fromS).padStart(7)} | ${w.requests} | ${w.failed} | ${Math.round(w.p50Ms ?? 0)} | ${Math.round(w.p99Ms ?? 0)}`);
  lines.push('', `failed requests: ${failures.length}`);
  for (const v of verdicts) lines.push(`${v.ok ? 'flat' : 'NOT FLAT'}: ${v.what} from ${v.base} (range ${v.range.join('–')}, drift ${(v.drift * 100).toFixed(1)} %)`);
  return lines.join('\n');
}
