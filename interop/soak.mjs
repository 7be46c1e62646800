// The soak benchmark (bench/soak.sh runs it): three `tessera serve` nodes on one PostgreSQL behind the round-robin
// balancer, under the mixed load of lib/cluster.mjs for SOAK_SECONDS (default 600). Every SOAK_WINDOW_SECONDS (30) it
// samples each node's resident memory, open file handles and threads, and the latency of the requests of that window.
// After SOAK_WARMUP_SECONDS (120), memory and handles must stay within 10 % and p99 must not drift up; no request may
// fail. Prints the curve and the verdicts, writes them as JSON to SOAK_OUT (if set), and exits 1 when one fails.
//
//   [TESSERA_DLL=...] node interop/soak.mjs
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from './lib/cluster.mjs';
import { buildTessera } from './lib/harness.mjs';
import { describeSoak, soak } from './lib/soak.mjs';

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const windowSeconds = Number(process.env.SOAK_WINDOW_SECONDS ?? 30);
const warmUpSeconds = Number(process.env.SOAK_WARMUP_SECONDS ?? 120);
const dir = await mkdtemp(join(tmpdir(), 'tessera-soak-'));
const cleanups = [];
try {
  const dll = process.env.TESSERA_DLL ?? await buildTessera(join(dir, 'build'));
  const world = await startCluster({ dir, dll }, cleanups);
  console.log(`soak: ${world.nodes.length} nodes behind ${world.balancer.url}, ${seconds} s of load, windows of ${windowSeconds} s, warm-up ${warmUpSeconds} s`);
  const result = await soak(world, { durationMs: seconds * 1000, windowMs: windowSeconds * 1000, warmUpMs: warmUpSeconds * 1000 });
  console.log(describeSoak(result));
  if (process.env.SOAK_OUT) {
    await writeFile(process.env.SOAK_OUT, JSON.stringify({ ...result, failures: result.failures.slice(0, 100) }, null, 2));
  }

  process.exitCode = result.failures.length === 0 && result.verdicts.every((v) => v.ok) ? 0 : 1;
} finally {
  for (const cleanup of cleanups.reverse()) {
    try { await cleanup(); } catch (error) { console.error(`cleanup failed: ${error.message}`); }
  }

  await rm(dir, { recursive: true, force: true });
}
