// The upstream IdP of lib/upstream.mjs in an OS process of its own, for benchmarks that must tell its CPU apart from
// the load generator's and Tessera's (bench/signin-load.mjs reads each process's CPU from /proc). The harness starts
// it instead of the in-process upstream when asked to (start({ upstreamProcess: true })); the suite never does.
//
// Both sides are here: startUpstreamProcess() forks this file, which, run as a child, starts the upstream and answers
// the parent's calls over the IPC channel. The child ends when that channel closes, so it never outlives the parent,
// however the parent ends.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startUpstream } from './upstream.mjs';

const SELF = fileURLToPath(import.meta.url);
const STARTUP_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 15_000;

/**
 * Starts the upstream in a child process, with startUpstream's options (port, clientSecret, redirectUri; the default
 * accounts). Returns what startUpstream returns that can cross a process boundary: issuer, pid, registerClient(),
 * stats() (a copy of counts and errors, which live in the child) and close().
 */
export async function startUpstreamProcess({ port, clientSecret, redirectUri }) {
  const child = fork(SELF, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  // The channel closing already ends the child; this is for a parent that exits without closing it first.
  const killNow = () => child.kill('SIGKILL');
  process.once('exit', killNow);
  child.once('exit', () => process.off('exit', killNow));

  const pending = new Map();
  let next = 0;
  child.on('message', ({ id, result, error }) => {
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    clearTimeout(call.timer);
    if (error) call.reject(new Error(`upstream process: ${error}`));
    else call.resolve(result);
  });
  child.once('exit', (code, signal) => {
    for (const call of pending.values()) {
      clearTimeout(call.timer);
      call.reject(new Error(`the upstream process exited (${code ?? signal})`));
    }
    pending.clear();
  });
  const call = (method, args, timeout = CALL_TIMEOUT_MS) => new Promise((resolve, reject) => {
    const id = next;
    next += 1;
    const timer = setTimeout(() => { pending.delete(id); reject(new Error(`upstream process: ${method} took over ${timeout} ms`)); }, timeout);
    pending.set(id, { resolve, reject, timer });
    child.send({ id, method, args });
  });

  try {
    const { issuer } = await call('start', { port, clientSecret, redirectUri }, STARTUP_TIMEOUT_MS);
    return {
      issuer,
      pid: child.pid,
      registerClient: (client) => call('registerClient', client),
      /** { counts, errors } as the in-process upstream keeps them, copied from the child now. */
      stats: () => call('stats'),
      async close() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = once(child, 'exit');
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

// --- the child ------------------------------------------------------------------------------------------------
if (process.argv[1] === SELF && process.send) {
  let upstream;
  const methods = {
    async start(options) {
      upstream = await startUpstream(options);
      return { issuer: upstream.issuer };
    },
    registerClient: (client) => upstream.registerClient(client),
    stats: () => ({ counts: upstream.counts, errors: upstream.errors }),
  };
  process.on('message', async ({ id, method, args }) => {
    try {
      process.send({ id, result: await methods[method](args) });
    } catch (error) {
      process.send({ id, error: error.message });
    }
  });
  process.once('disconnect', async () => {
    await upstream?.close();
    process.exit(0);
  });
}
