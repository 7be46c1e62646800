// The soak's short form, run by CI: three nodes on one PostgreSQL behind the balancer, under the mixed load of
// lib/cluster.mjs for 60 seconds. No request may fail, and no node may gain file handles after a 20-second warm-up.
// Whether memory and latency stay flat is judged by the 10-minute soak (bench/soak.sh): a node's heap is still
// growing to its working size in its first minute, so a 60-second run cannot say it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster } from '../lib/cluster.mjs';
import { environment } from '../lib/harness.mjs';
import { postgresInstalled } from '../lib/postgres.mjs';
import { describeSoak, soak } from '../lib/soak.mjs';

const SECONDS = 60;
const WARM_UP_SECONDS = 20;

export default () => describe('20. Soak, short form (three nodes, 60 s of mixed load)', { timeout: 240_000 }, () => {
  const cleanups = [];
  let world;

  before(async () => {
    if (!postgresInstalled()) {
      throw new Error("PostgreSQL's server packages are not installed (apt-get install postgresql); this area needs them");
    }

    world = await startCluster(environment(), cleanups);
  }, { timeout: 180_000 });

  after(async () => {
    for (const cleanup of cleanups.reverse()) {
      try { await cleanup(); } catch (error) { console.error(`cleanup failed: ${error.message}`); }
    }
  });

  test('60 s of client_credentials, refresh, sign-ins, SCIM and Admin API changes: nothing fails, no node leaks handles', async () => {
    const result = await soak(world, { durationMs: SECONDS * 1000, windowMs: 5000, warmUpMs: WARM_UP_SECONDS * 1000 });
    console.log(describeSoak(result));

    assert.deepEqual(result.failures.slice(0, 10).map((f) => `${f.operation} ${f.status}: ${f.body ?? ''}`.slice(0, 300)), [], 'no request failed');
    assert.ok(result.windows.every((w) => w.requests > 0), 'every window served requests');
    for (const verdict of result.verdicts.filter((v) => v.what.endsWith('handles'))) {
      assert.ok(verdict.ok, `${verdict.what}: ${verdict.range.join('–')} after the warm-up, more than 10 % from ${verdict.base}`);
    }
  });
});
