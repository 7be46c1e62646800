// A small HTTP load balancer for several `tessera serve` nodes on loopback, as a platform team would put in front of
// them: round-robin, no stickiness, a new connection to the node for each request, and a node that refuses the
// connection is skipped (the request goes to the next one, and the refusing node is left out for a moment before it is
// tried again). A node that dies after it took a request cannot be retried safely (a token request is not idempotent),
// so that request is answered 502, as balancers do, and counted. The balancer keeps the client's Host (Tessera's
// issuer is the balancer's URL, from configuration) and appends the client's address to X-Forwarded-For, which
// Tessera believes from a trusted proxy (Network.TrustedProxies). Every answer names its node in X-Balancer-Node.
import { request as httpRequest, createServer } from 'node:http';

/** How long a node that refused a connection is left out before the balancer tries it again. */
const REFUSED_BACKOFF_MS = 1000;
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

/**
 * Starts the balancer on 127.0.0.1:port in front of `nodes` (origins such as http://127.0.0.1:5001). Returns its url,
 * the counters (`stats`), a log of each node's refusals and failures with their times (performance.now()), and close().
 */
export async function startBalancer({ port = 0, nodes }) {
  const state = nodes.map((origin, index) => ({ index, origin: new URL(origin), downUntil: 0 }));
  const stats = {
    forwarded: nodes.map(() => 0),
    /** Connections a node refused, each retried on another node: { node, at }. */
    refused: [],
    /** Requests a node took and never answered (it died mid-request), answered 502: { node, at, method, path }. */
    failed: [],
    /** Requests no node would take (all refusing), answered 503. */
    noNode: 0,
  };
  let next = 0;

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const tried = new Set();
    for (;;) {
      const node = choose(state, tried, next);
      if (!node) {
        stats.noNode += 1;
        response.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('no node is accepting connections');
        return;
      }

      next = (node.index + 1) % state.length;
      tried.add(node.index);
      const outcome = await forward(node, request, body, response);
      if (outcome === 'answered') {
        stats.forwarded[node.index] += 1;
        return;
      }

      if (outcome === 'refused') {
        stats.refused.push({ node: node.index, at: performance.now() });
        node.downUntil = Date.now() + REFUSED_BACKOFF_MS;
        continue; // nothing reached the node: safe to send it to another
      }

      stats.failed.push({ node: node.index, at: performance.now(), method: request.method, path: request.url });
      if (!response.headersSent) {
        response.writeHead(502, { 'x-balancer-node': String(node.index), 'content-type': 'text/plain' }).end('the node failed mid-request');
      } else {
        response.destroy();
      }

      return;
    }
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    stats,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** The next node in turn that is not left out and not yet tried for this request; a left-out one if none is left. */
function choose(state, tried, start) {
  const now = Date.now();
  const order = state.map((_, i) => state[(start + i) % state.length]).filter((node) => !tried.has(node.index));
  return order.find((node) => node.downUntil <= now) ?? order[0];
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Sends the request to one node; resolves 'answered', 'refused' (no connection was made) or 'failed'. */
function forward(node, request, body, response) {
  return new Promise((resolve) => {
    const headers = { ...request.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const client = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${client}` : client;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-host'] = request.headers.host ?? '';
    headers['content-length'] = String(body.length);
    headers.connection = 'close';

    let connected = false;
    const upstream = httpRequest({
      host: node.origin.hostname,
      port: node.origin.port,
      method: request.method,
      path: request.url,
      headers,
      agent: false,
    }, (answer) => {
      const forwarded = { ...answer.headers, 'x-balancer-node': String(node.index) };
      for (const name of HOP_BY_HOP) delete forwarded[name];
      response.writeHead(answer.statusCode, forwarded);
      answer.pipe(response);
      answer.on('close', () => resolve(answer.complete ? 'answered' : 'failed'));
    });
    upstream.on('socket', (socket) => socket.on('connect', () => { connected = true; }));
    upstream.on('error', (error) => resolve(!connected && error.code === 'ECONNREFUSED' ? 'refused' : 'failed'));
    upstream.end(body);
  });
}
