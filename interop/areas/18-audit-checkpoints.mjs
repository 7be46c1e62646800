// The audit log's signed checkpoints, checked by an independent peer: jose fetches /audit/checkpoints/latest and
// verifies it against the key set named by discovery (its jwks_uri), with discovery's issuer and the checkpoint's own
// typ; the count it signed must equal the number of rows `tessera audit verify` walks in the running Tessera's database
// up to that head. The whole list is verified the same way, and each checkpoint must name the hash of the one before.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import { AREA_TIMEOUT_MS, environment } from '../lib/harness.mjs';

const TYP = 'audit-checkpoint+jwt';
const GENESIS = '0'.repeat(64);
/** Checkpoints come every 2 s of activity (Audit.CheckpointInterval in the harness); give the newest rows that long to be covered. */
const ATTEMPTS = 15;

async function discovery(tesseraUrl) {
  const document = await (await fetch(`${tesseraUrl}/.well-known/openid-configuration`)).json();
  return { issuer: document.issuer, keys: jose.createRemoteJWKSet(new URL(document.jwks_uri)) };
}

async function verifyCheckpoint(jws, { issuer, keys }) {
  const { payload, protectedHeader } = await jose.jwtVerify(jws, keys, { issuer, typ: TYP, algorithms: ['ES256'] });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.ok(protectedHeader.kid, 'the checkpoint names its key');
  assert.equal(payload.exp, undefined, 'a checkpoint never expires');
  for (const claim of ['count', 'head_id', 'iat']) assert.ok(Number.isSafeInteger(payload[claim]), `${claim} is a number`);
  for (const claim of ['head_hash', 'previous_checkpoint']) assert.match(payload[claim], /^[0-9a-f]{64}$/, `${claim} is a SHA-256 hash in hex`);
  return payload;
}

/** `tessera audit verify` on the running Tessera's database: its exit code, and the count and head it printed. */
async function auditVerify(env, ...extra) {
  const result = await env.tessera('audit', 'verify', '--config', env.configFile, ...extra);
  const count = /^count: (\d+)$/m.exec(result.stdout)?.[1];
  const head = /^head: row (\d+), hash ([0-9a-f]{64})$/m.exec(result.stdout);
  return { ...result, count: count && Number(count), headId: head && Number(head[1]), headHash: head?.[2] };
}

export default () => describe('18. audit checkpoints (jose against discovery, tessera audit verify)', { timeout: AREA_TIMEOUT_MS }, () => {
  test('jose verifies the latest checkpoint with the JWKS of discovery, and its count is what tessera audit verify counts', async () => {
    const env = environment();
    const issuer = await discovery(env.tesseraUrl);
    let seen = [];
    for (let attempt = 1; ; attempt += 1) {
      const response = await fetch(`${env.tesseraUrl}/audit/checkpoints/latest`);
      if (response.status === 200) {
        assert.equal(response.headers.get('content-type').split(';')[0], `application/${TYP}`);
        const payload = await verifyCheckpoint(await response.text(), issuer);
        assert.equal(payload.iss, issuer.issuer, 'iss is the issuer exactly as discovery names it');

        // The checkpoint may lag behind the head by the rows of the last two seconds; the next one covers them.
        const verified = await auditVerify(env);
        assert.equal(verified.code, 0, verified.stderr);
        assert.ok(payload.count <= verified.count, `the checkpoint counts ${payload.count} rows, the log only ${verified.count}`);
        seen.push(`${payload.count} signed / ${verified.count} in the log`);
        if (payload.count === verified.count) {
          assert.equal(payload.head_id, verified.headId);
          assert.equal(payload.head_hash, verified.headHash);
          break;
        }
      }

      assert.ok(attempt < ATTEMPTS, `no checkpoint caught up with the log's head: ${seen.join(', ') || `latest answered ${response.status}`}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  });

  test('every published checkpoint verifies with jose and names the hash of the one before; tessera audit verify holds the chain against them', async () => {
    const env = environment();
    const issuer = await discovery(env.tesseraUrl);
    const tokens = [];
    for (let url = `${env.tesseraUrl}/audit/checkpoints?limit=50`; url;) {
      const page = await (await fetch(url)).json();
      tokens.push(...page.checkpoints);
      url = page.next ? `${env.tesseraUrl}/audit/checkpoints?limit=50&after=${page.next}` : null;
    }

    assert.ok(tokens.length > 0, 'checkpoints were published');
    let previous = GENESIS;
    let count = 0;
    for (const jws of tokens) {
      const payload = await verifyCheckpoint(jws, issuer);
      assert.equal(payload.previous_checkpoint, previous, `the checkpoint of row ${payload.head_id} names the one before it`);
      assert.ok(payload.count > count, 'counts grow from one checkpoint to the next');
      previous = createHash('sha256').update(jws, 'ascii').digest('hex');
      count = payload.count;
    }

    const verified = await auditVerify(env, '--checkpoints', `${env.tesseraUrl}/audit/checkpoints`);
    assert.equal(verified.code, 0, verified.stderr);
    const matched = Number(/^checkpoints: (\d+) matched/m.exec(verified.stdout)?.[1]);
    assert.ok(matched >= tokens.length, `verify matched ${matched} of the ${tokens.length} checkpoints jose verified`);
  });
});
