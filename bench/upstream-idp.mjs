// The upstream identity provider of refresh.sh's Tessera servers: the interop suite's own (interop/lib/upstream.mjs, a
// real oidc-provider with development login and consent forms and the accounts stm-1001 …), with one client per Tessera
// server, `tessera-<name>`, whose redirect URI is that server's callback. Tessera needs it only while the benchmark
// signs its virtual clients in; it stays up, idle, until it is stopped, so that anything Tessera asked of it later would
// show (as CPU other, and as errors).
//
//   UPSTREAM_SECRET=... node upstream-idp.mjs PORT NAME=CALLBACK [NAME=CALLBACK ...]
import { startUpstream } from '../interop/lib/upstream.mjs';

const [port, ...callbacks] = process.argv.slice(2);
const secret = process.env.UPSTREAM_SECRET;
if (!port || callbacks.length === 0 || !secret) {
  console.error('usage: UPSTREAM_SECRET=... node upstream-idp.mjs PORT NAME=CALLBACK [NAME=CALLBACK ...]');
  process.exit(2);
}

const clients = callbacks.map((pair) => {
  const [name, callback] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
  return { clientId: `tessera-${name}`, clientSecret: secret, redirectUris: [callback] };
});
// startUpstream always registers a client named "tessera"; it gets the first callback and stays unused.
const upstream = await startUpstream({ port: Number(port), clientSecret: secret, redirectUri: clients[0].redirectUris[0] });
for (const client of clients) await upstream.registerClient(client);
console.log(`upstream IdP on ${upstream.issuer}: clients ${clients.map((c) => c.clientId).join(', ')}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (upstream.errors.length > 0) console.error(`upstream errors: ${upstream.errors.join('; ')}`);
    console.log(`upstream requests: ${JSON.stringify(upstream.counts)}`);
    await upstream.close();
    process.exit(0);
  });
}
