// Endpoints of the applications and receivers that Tessera signals, each on its own loopback port: an application's
// back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0 §2.5), which answers 200 as an application does
// once it has ended its session, and a receiver of pushed Security Event Tokens (RFC 8935 §2), which checks the
// Authorization Tessera was configured to send and acknowledges with 202. Both record what arrived.
import { createServer } from 'node:http';

async function startRecordingEndpoint(path, record) {
  const received = [];
  const waiters = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      const { entry, status } = record(request, body);
      received.push({ at: performance.now(), contentType: request.headers['content-type'] ?? '', ...entry });
      response.writeHead(status, { 'cache-control': 'no-store' }).end();
      for (const waiter of waiters.splice(0)) waiter();
    });
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const url = `http://127.0.0.1:${server.address().port}${path}`;
  return {
    url,
    received,
    /** Resolves once `count` requests have arrived in all, or rejects after `timeoutMs`. */
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`${url} received ${received.length} requests, expected ${count}`);
        await new Promise((resolve) => { waiters.push(resolve); setTimeout(resolve, 100); });
      }

      return received;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export function startBackchannelEndpoint() {
  return startRecordingEndpoint('/backchannel-logout', (_request, body) => ({
    entry: { logoutToken: new URLSearchParams(body).get('logout_token') },
    status: 200,
  }));
}

/** A push receiver expecting `authorization`; anything else is answered 401 (RFC 8935 §2.4) and recorded as refused. */
export function startSetReceiver(authorization) {
  return startRecordingEndpoint('/events', (request, body) => {
    const authorized = request.headers.authorization === authorization;
    return { entry: { set: body, authorized }, status: authorized ? 202 : 401 };
  });
}
