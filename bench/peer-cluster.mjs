// What the two oidc-provider peers share: run the server in this process, or, with more than one worker, as the
// primary of Node's cluster mode, forking that many workers (they share the port) with the environment the primary
// made once (keys every worker must hold alike), and stopping them all on SIGINT or SIGTERM.
import cluster from 'node:cluster';

/**
 * @param {number} workers how many processes serve (1: this one)
 * @param {() => Record<string, string>} sharedEnv made once by the primary, passed to every worker
 * @param {string} description logged by the primary once the workers are forked
 * @param {() => void} serve what each serving process runs
 */
export function serveClustered(workers, sharedEnv, description, serve) {
  if (workers <= 1 || !cluster.isPrimary) {
    serve();
    return;
  }

  const env = sharedEnv();
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork(env);
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers)) worker.kill('SIGTERM');
      setTimeout(() => process.exit(0), 2000).unref();
      cluster.on('exit', () => { if (Object.keys(cluster.workers).length === 0) process.exit(0); });
    });
  }
  console.log(description);
}
