// A real OpenID Connect authorization server (npm oidc-provider) for end-to-end tests.
// Logins and consents are finished automatically: there is no HTML login page.
//
//   node end2end/oidc/server.mjs
//
// Env: OIDC_HOST (127.0.0.2), OIDC_PORT (5160), OIDC_CLIENT_ID (atom-e2e),
// OIDC_CLIENT_SECRET (atom-e2e-secret), OIDC_REDIRECT_URIS (comma separated,
// http://localhost:5158/api/auth/oidc/callback), OIDC_ACCESS_TOKEN_TTL (seconds, 3600),
// OIDC_CLIENT_AUTH (client_secret_post): the only token endpoint authentication it offers.
// Post, not the default Basic, so the hub must read token_endpoint_auth_methods_supported
// from discovery (RFC 8414 §2) to connect at all.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const host = process.env.OIDC_HOST || '127.0.0.2';
const port = Number(process.env.OIDC_PORT || 5160);
const clientId = process.env.OIDC_CLIENT_ID || 'atom-e2e';
const clientSecret = process.env.OIDC_CLIENT_SECRET || 'atom-e2e-secret';
const redirectUris = (process.env.OIDC_REDIRECT_URIS || 'http://localhost:5158/api/auth/oidc/callback')
  .split(',').map((s) => s.trim()).filter(Boolean);
const accessTokenTtl = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);
const clientAuth = process.env.OIDC_CLIENT_AUTH || 'client_secret_post';
const issuer = `http://${host}:${port}`;

// The default account, and the organisation's people for single sign-on to the hub's
// dashboard (sso.spec.ts), chosen by the authorization request's login_hint (their email).
const ACCOUNT_ID = 'oidc-user-1';
const ACCOUNTS = {
  [ACCOUNT_ID]: { name: 'Olivia OIDC', email: 'olivia@example.test', email_verified: true, preferred_username: 'olivia' },
  'sso-admin': { name: 'Ana Admin', email: 'ana@corp.test', email_verified: true, groups: ['staff', 'atom-admins'] },
  'sso-user': { name: 'Uma User', email: 'uma@corp.test', email_verified: true, groups: ['staff'] },
  'sso-outsider': { name: 'Otto Outside', email: 'otto@elsewhere.test', email_verified: true, groups: ['atom-admins'] },
};
const accountFor = (hint) =>
  Object.keys(ACCOUNTS).find((id) => hint && ACCOUNTS[id].email === hint) ?? ACCOUNT_ID;

// A signing key made per run (avoids the provider's development-key warning).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };

// A client may introspect and revoke only its own tokens.
const ownToken = async (_ctx, client, token) => token.clientId === client.clientId;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    application_type: 'web', // http://localhost redirect URIs are fine for web clients using the code flow
    token_endpoint_auth_method: clientAuth,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: redirectUris,
    scope: 'openid profile email offline_access',
  }],
  clientAuthMethods: [clientAuth],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups'],
    email: ['email', 'email_verified'],
  },
  async findAccount(_ctx, sub) {
    if (!ACCOUNTS[sub]) return undefined;
    return { accountId: sub, async claims() { return { sub, ...ACCOUNTS[sub] }; } };
  },
  pkce: { required: () => true }, // only S256 exists in oidc-provider 9
  // By default offline_access is silently dropped unless the request has prompt=consent,
  // so a refresh token is issued to this client whenever the grant allows refresh_token.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true, // every refresh returns a new refresh token; reusing the old one revokes the grant
  expiresWithSession: async () => false, // tokens outlive the provider's browser session
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
    Interaction: 600,
  },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true, allowedPolicy: ownToken },
    revocation: { enabled: true, allowedPolicy: ownToken },
    userinfo: { enabled: true },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

// Finish any interaction (login and consent) at once for ACCOUNT_ID, granting what was asked.
async function finishInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params, prompt } = details;
  const accountId = accountFor(params.login_hint);
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  const scope = new Set(String(params.scope || '').split(' ').filter(Boolean));
  for (const s of prompt.details?.missingOIDCScope || []) scope.add(s);
  if (scope.size) grant.addOIDCScope([...scope].join(' '));
  const claims = [...(prompt.details?.missingOIDCClaims || [])];
  if (params.claims) {
    try {
      const c = JSON.parse(params.claims);
      claims.push(...Object.keys(c.userinfo || {}), ...Object.keys(c.id_token || {}));
    } catch { /* the provider already rejected malformed claims */ }
  }
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, scopes] of Object.entries(prompt.details?.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

const handle = provider.callback();
const server = createServer((req, res) => {
  if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(req.url.split('?')[0])) {
    finishInteraction(req, res).catch((err) => {
      console.error('interaction failed:', err);
      res.statusCode = 400;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`interaction failed: ${err.message}\n`);
    });
    return;
  }
  handle(req, res);
});

provider.on('server_error', (_ctx, err) => console.error('server_error:', err));

server.listen(port, host, () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { server.close(); process.exit(0); });
}
