// The upstream identity provider of the organization "st-marys": a real oidc-provider, in this process.
// Sign-in runs through its development interactions (a login form and a consent form), which the test
// browser fills in; the account id typed at the login form is the upstream subject.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

/** Upstream accounts, by upstream subject. Subjects are deliberately not emails. */
export const ACCOUNTS = {
  'stm-1001': { email: 'alice@stmarys.example', name: 'Alice Adams', groups: ['Doctors', 'Staff'] },
  'stm-1002': { email: 'bob@stmarys.example', name: 'Bob Brown', groups: ['Staff'] },
  // Provisioned over SCIM in area 12 (Okta's sequence and Entra ID's), then deactivated while signed in.
  'stm-1003': { email: 'carol@stmarys.example', name: 'Carol Chen', groups: ['Staff'] },
  'stm-1004': { email: 'dmitri@stmarys.example', name: 'Dmitri Petrov', groups: ['Staff'] },
  // Area 13: signed in to two apps, deactivated over SCIM and enabled again, twenty times.
  'stm-1005': { email: 'erin@stmarys.example', name: 'Erin Evans', groups: ['Staff'] },
  // Area 17: one per row of its table of anomaly rules and actions, each signing in to an organization of its own.
  'stm-1006': { email: 'farah@stmarys.example', name: 'Farah Haddad', groups: ['Staff'] },
  'stm-1007': { email: 'gus@stmarys.example', name: 'Gus Gallagher', groups: ['Staff'] },
  'stm-1008': { email: 'hana@stmarys.example', name: 'Hana Sato', groups: ['Staff'] },
  'stm-1009': { email: 'ivan@stmarys.example', name: 'Ivan Horvat', groups: ['Staff'] },
  'stm-1010': { email: 'jun@stmarys.example', name: 'Jun Park', groups: ['Staff'] },
  'stm-1011': { email: 'kofi@stmarys.example', name: 'Kofi Mensah', groups: ['Staff'] },
};

export const UPSTREAM_CLIENT_ID = 'tessera';

/**
 * Starts oidc-provider on 127.0.0.1:port with one client, Tessera, whose only redirect URI is Tessera's callback.
 * Returns the provider, its issuer, counters of the requests Tessera's sign-ins cause, registerClient() for clients
 * added later, and close(). `accounts` replaces ACCOUNTS (area 21's users have a birthdate, released with profile).
 */
export async function startUpstream({ port, clientSecret, redirectUri, accounts = ACCOUNTS }) {
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'upstream-rs256', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [{
      client_id: UPSTREAM_CLIENT_ID,
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // PKCE S256 on every authorization request, whatever the client type.
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups', 'birthdate'],
    },
    // Release scope-requested claims (groups among them) in the ID token too, not only at userinfo.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    // Explicit lifetimes (seconds), which also keeps oidc-provider from noting each default it falls back to.
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    async findAccount(ctx, sub) {
      const account = accounts[sub];
      if (!account) {
        return undefined;
      }

      return {
        accountId: sub,
        async claims() {
          return {
            sub, email: account.email, email_verified: true, name: account.name, groups: account.groups,
            ...(account.birthdate ? { birthdate: account.birthdate } : {}),
          };
        },
      };
    },
  });

  const counts = { authorization: 0, token: 0, userinfo: 0 };
  provider.use(async (ctx, next) => {
    // A new authorization request is a request to /auth itself; /auth/{uid} is the resume after an interaction.
    if (ctx.path === '/auth') counts.authorization += 1;
    if (ctx.path === '/token') counts.token += 1;
    if (ctx.path === '/me') counts.userinfo += 1;
    await next();
  });

  const errors = [];
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error']) {
    provider.on(event, (_ctx, error) => errors.push(`${event}: ${error.message} ${error.error_description ?? ''}`.trim()));
  }

  const server = await new Promise((resolve, reject) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });

  return {
    provider,
    issuer,
    counts,
    errors,
    /**
     * Registers another client at runtime, as an IdP admin does for a connection made later (through the Admin API
     * or the portal): a confidential client with the code flow, client_secret_basic unless told otherwise. It goes
     * into the provider's client store (its adapter), where oidc-provider looks up every client it was not started
     * with; the clients it was started with are untouched. An id already in use is refused.
     */
    async registerClient({ clientId, clientSecret, redirectUris, tokenEndpointAuthMethod = 'client_secret_basic' }) {
      if (await provider.Client.find(clientId)) throw new Error(`the upstream IdP already has a client ${clientId}`);
      const metadata = {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: tokenEndpointAuthMethod,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: redirectUris,
      };
      await provider.Client.validate(metadata); // the same checks as for the clients it was started with
      await provider.Client.adapter.upsert(clientId, metadata);
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
