// A PostgreSQL cluster of the suite's own, started and stopped through .ci/postgres.sh (Debian's packages), in a data
// directory and on a port of its own, so that an area may restart it without touching any other database. Queries go
// through psql from the same packages (the suite has no PostgreSQL driver of its own).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../.ci/postgres.sh', import.meta.url));

/** True when Debian's PostgreSQL server packages are installed (CI installs them). */
export function postgresInstalled() {
  try {
    return readdirSync('/usr/lib/postgresql').length > 0;
  } catch {
    return false;
  }
}

/**
 * Starts a cluster in `dataDirectory` on `port` with a database `database`; returns its Npgsql connection string
 * (with the given extra settings), start(), stop() (a fast shutdown, as a restart does), query() and remove().
 */
export async function startPostgres({ dataDirectory, port, database = 'tessera', settings = '' }) {
  const env = { TESSERA_CI_PGDATA: dataDirectory, TESSERA_CI_PGPORT: String(port) };
  const script = async (verb) => {
    const { code, stdout, stderr } = await run('bash', [SCRIPT, verb], env);
    if (code !== 0) throw new Error(`.ci/postgres.sh ${verb} failed (${code}): ${stderr}`);
    return stdout.trim();
  };
  const admin = parse(await script('start'));
  const psql = async (sql, db = database) => {
    const bin = `${readdirSync('/usr/lib/postgresql').sort().at(-1)}`;
    const { code, stdout, stderr } = await run(`/usr/lib/postgresql/${bin}/bin/psql`, [
      '-h', '127.0.0.1', '-p', String(port), '-U', admin.Username, '-d', db, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql,
    ], { PGPASSWORD: admin.Password });
    if (code !== 0) throw new Error(`psql failed (${code}): ${stderr}`);
    return stdout.trim().split('\n').filter((line) => line.length > 0).map((line) => line.split('|'));
  };
  await psql(`CREATE DATABASE "${database}"`, 'postgres');
  return {
    connectionString: `Host=127.0.0.1;Port=${port};Username=${admin.Username};Password=${admin.Password};Database=${database}${settings ? `;${settings}` : ''}`,
    start: () => script('start'),
    stop: () => script('stop'),
    /** Rows of a query as arrays of strings. */
    query: (sql) => psql(sql),
    async remove() {
      await script('stop');
      await rm(dataDirectory, { recursive: true, force: true });
    },
  };
}

function parse(connectionString) {
  return Object.fromEntries(connectionString.split(';').filter(Boolean).map((pair) => pair.split('=')));
}

async function run(command, args, env) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const [code] = await once(child, 'close');
  return { code, stdout, stderr };
}
