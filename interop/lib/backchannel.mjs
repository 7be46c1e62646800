// An application's back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0 §2.5) on a loopback port:
// it records every logout token posted to it and answers 200, as an application does once it has ended its session.
import { createServer } from 'node:http';

export async function startBackchannelEndpoint() {
  const received = [];
  const waiters = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      const form = new URLSearchParams(body);
      received.push({
        at: performance.now(),
        contentType: request.headers['content-type'] ?? '',
        logoutToken: form.get('logout_token'),
      });
      response.writeHead(200, { 'cache-control': 'no-store' }).end();
      for (const waiter of waiters.splice(0)) waiter();
    });
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const url = `http://127.0.0.1:${server.address().port}/backchannel-logout`;
  return {
    url,
    received,
    /** Resolves once `count` logout tokens have arrived in all, or rejects after `timeoutMs`. */
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`${url} received ${received.length} logout tokens, expected ${count}`);
        await new Promise((resolve) => { waiters.push(resolve); setTimeout(resolve, 100); });
      }

      return received;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
