// oidc-provider's storage on PostgreSQL, for the peer of refresh.sh. In Node's cluster mode every worker must find
// what another worker stored (an interaction begun on one, a session, grant, code or refresh token used on another),
// which the default in-memory adapter, one cache per process, cannot give: this is how a multi-process oidc-provider
// is deployed. The adapter interface is the one oidc-provider documents (find, upsert, consume, destroy, findByUid,
// findByUserCode, revokeByGrantId); one table holds every model's payloads as JSON, with the columns the lookups
// other than by id need (grant id, session uid, user code), when the payload expires and when it was consumed.
//
// Every statement is a named (prepared) query, committed on its own: oidc-provider calls the adapter one operation at
// a time and has no notion of a transaction.
import pg from 'pg';

const TABLE = 'oidc_payloads';

/** Creates the table and its indexes if they are missing; run once, before any worker starts. */
export async function createSchema(connectionString) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${TABLE} (
        model text NOT NULL,
        id text NOT NULL,
        payload jsonb NOT NULL,
        grant_id text,
        uid text,
        user_code text,
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      );
      CREATE INDEX IF NOT EXISTS ${TABLE}_grant ON ${TABLE} (model, grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS ${TABLE}_uid ON ${TABLE} (model, uid) WHERE uid IS NOT NULL;
      CREATE INDEX IF NOT EXISTS ${TABLE}_user_code ON ${TABLE} (model, user_code) WHERE user_code IS NOT NULL;`);
  } finally {
    await client.end();
  }
}

/**
 * The adapter class oidc-provider instantiates once per model (`new Adapter('RefreshToken')`), all of them sharing one
 * connection pool of `poolSize` connections in this process.
 */
export function postgresAdapter(connectionString, { poolSize = 10 } = {}) {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle connection that breaks (PostgreSQL stopped at the end of a run) must not crash the worker.
  pool.on('error', (error) => console.error(`PostgreSQL pool: ${error.message}`));

  /** A payload as oidc-provider stored it, with `consumed` (seconds since the epoch) once it was consumed. */
  const payloadOf = (row) => (row ? { ...row.payload, ...(row.consumed ? { consumed: Number(row.consumed) } : {}) } : undefined);
  const live = '(expires_at IS NULL OR expires_at > now())';
  const columns = 'payload, extract(epoch FROM consumed_at)::bigint AS consumed';

  return class PostgresAdapter {
    constructor(model) {
      this.model = model;
    }

    async upsert(id, payload, expiresIn) {
      // A payload stored again keeps its consumed mark: a spent code or rotated refresh token stays spent.
      await pool.query({
        name: 'oidc-upsert',
        text: `INSERT INTO ${TABLE} (model, id, payload, grant_id, uid, user_code, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
          ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
            user_code = excluded.user_code, expires_at = excluded.expires_at`,
        values: [this.model, id, payload, payload.grantId ?? null, payload.uid ?? null, payload.userCode ?? null,
          typeof expiresIn === 'number' ? new Date(Date.now() + expiresIn * 1000) : null],
      });
    }

    async find(id) {
      const { rows } = await pool.query({
        name: 'oidc-find',
        text: `SELECT ${columns} FROM ${TABLE} WHERE model = $1 AND id = $2 AND ${live}`,
        values: [this.model, id],
      });
      return payloadOf(rows[0]);
    }

    async findByUid(uid) {
      const { rows } = await pool.query({
        name: 'oidc-find-uid',
        text: `SELECT ${columns} FROM ${TABLE} WHERE model = $1 AND uid = $2 AND ${live}`,
        values: [this.model, uid],
      });
      return payloadOf(rows[0]);
    }

    async findByUserCode(userCode) {
      const { rows } = await pool.query({
        name: 'oidc-find-user-code',
        text: `SELECT ${columns} FROM ${TABLE} WHERE model = $1 AND user_code = $2 AND ${live}`,
        values: [this.model, userCode],
      });
      return payloadOf(rows[0]);
    }

    async consume(id) {
      await pool.query({
        name: 'oidc-consume',
        text: `UPDATE ${TABLE} SET consumed_at = now() WHERE model = $1 AND id = $2`,
        values: [this.model, id],
      });
    }

    async destroy(id) {
      await pool.query({ name: 'oidc-destroy', text: `DELETE FROM ${TABLE} WHERE model = $1 AND id = $2`, values: [this.model, id] });
    }

    async revokeByGrantId(grantId) {
      await pool.query({
        name: 'oidc-revoke-grant',
        text: `DELETE FROM ${TABLE} WHERE model = $1 AND grant_id = $2`,
        values: [this.model, grantId],
      });
    }
  };
}
