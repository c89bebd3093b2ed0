// A real OpenID Connect provider on loopback for the tests: node-oidc-provider 8 with its
// development login screen (any password), one confidential client, and the accounts of a
// JSON file read at every look-up, so that a test can change someone's groups between two
// sign-ins. Started by tests/support/oidc.py; prints "listening <issuer>" when ready.
//
// Environment: OIDC_PROVIDER_MODULE (file URL of oidc-provider's lib/index.js),
// OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (space separated),
// OIDC_ACCOUNTS (path of {"<login>": {"name", "email", "groups", "amr"?}}).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const { default: Provider } = await import(process.env.OIDC_PROVIDER_MODULE);

function accounts() {
  return JSON.parse(readFileSync(process.env.OIDC_ACCOUNTS, 'utf8'));
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: process.env.OIDC_REDIRECT_URIS.split(' '),
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    // Every client must send a PKCE challenge: a client that does not is refused.
    pkce: { required: () => true, methods: ['S256'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: {
      amr: null,
      auth_time: null,
      openid: ['sub', 'amr'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    cookies: { keys: ['plaint-test-provider-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      const account = accounts()[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            name: account.name,
            preferred_username: account.preferred_username ?? id,
            email: account.email,
            email_verified: true,
            groups: account.groups ?? [],
          };
        },
      };
    },
  });
  // The development login screen records no authentication methods; an account with "amr"
  // in the file signs in as if it had used them (e.g. ["pwd", "otp"]).
  const finished = provider.interactionFinished.bind(provider);
  provider.interactionFinished = async (req, res, result, options) => {
    if (result.login) {
      const amr = accounts()[result.login.accountId]?.amr;
      if (amr) result.login.amr = amr;
    }
    return finished(req, res, result, options);
  };
  server.on('request', provider.callback());
  process.stdout.write(`listening ${issuer}\n`);
});
