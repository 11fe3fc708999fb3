// Shared settings for the Playwright config and global setup.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function required(name: string, what: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: ${what}`);
  return v;
}

export const atomBin = required('ATOM_BIN', 'set it to the path of the built hub binary (e.g. target/debug/atom)');
export const siteRoot = required('ATOM_SITE_ROOT', 'set it to the built site directory (e.g. target/site)');

// One data directory per run. Workers inherit process.env, so they reuse it.
if (!process.env.ATOM_E2E_DIR) process.env.ATOM_E2E_DIR = mkdtempSync(join(tmpdir(), 'atom-e2e-'));
export const dataDir = process.env.ATOM_E2E_DIR;
// One master key per run, given to every process: two hubs starting together never race to
// generate a key file.
if (!process.env.ATOM_E2E_KEY) process.env.ATOM_E2E_KEY = randomBytes(32).toString('hex');

export const baseURL = 'http://localhost:5158';
export const oidcIssuer = 'http://127.0.0.2:5160';

// Env shared by `atom serve` and `atom user add`.
export const atomEnv: Record<string, string> = {
  ATOM_MODE: 'development',
  ATOM_DATABASE__URL: `sqlite://${dataDir}/atom.db?mode=rwc`,
  ATOM_VAULT__KEY: process.env.ATOM_E2E_KEY ?? '',
};

export const hubEnv: Record<string, string> = {
  ...atomEnv,
  ATOM_SERVER__LISTEN: '127.0.0.1:5158',
  ATOM_SERVER__PUBLIC_URL: baseURL,
  ATOM_SERVER__SITE_ROOT: siteRoot,
  ATOM_SANDBOX__LISTEN: '127.0.0.1:5159',
  ATOM_SANDBOX__PUBLIC_URL: 'http://127.0.0.1:5159',
  // Every journey signs the same user in: lift the per-account and per-user limits
  // (their own behaviour is tested in server/tests/api/security.rs).
  ATOM_LIMITS__SIGN_IN_PER_ACCOUNT: '1000',
  ATOM_LIMITS__SIGN_IN_PER_ADDRESS: '1000',
  ATOM_LIMITS__CONNECT_PER_USER: '1000',
  ATOM_LIMITS__CALLBACK_PER_ADDRESS: '1000',
  ATOM_LIMITS__MUTATION_PER_ADDRESS: '10000',
  // The revoked-at-the-provider journey waits for the liveness check of never-expiring tokens.
  ATOM_JOBS__LIVENESS_INTERVAL_SECONDS: '2',
  ATOM_JOBS__LIVENESS_PERIOD_SECONDS: '2',
  ATOM_PROVIDERS__OIDC__KIND: 'oidc',
  ATOM_PROVIDERS__OIDC__ISSUER: oidcIssuer,
  ATOM_PROVIDERS__OIDC__CLIENT_ID: 'atom-e2e',
  ATOM_PROVIDERS__OIDC__CLIENT_SECRET: 'atom-e2e-secret',
  ATOM_PROVIDERS__OIDC__DISPLAY_NAME: 'Example OIDC',
  ATOM_PROVIDERS__OIDC__SCOPES: 'openid profile email offline_access',
  // The same authorization server as plain OAuth 2: no discovery and no userinfo endpoint,
  // so the connection has no account name; the client authenticates in the form body.
  ATOM_PROVIDERS__PLAIN__KIND: 'oauth2',
  ATOM_PROVIDERS__PLAIN__AUTHORIZE_URL: `${oidcIssuer}/auth`,
  ATOM_PROVIDERS__PLAIN__TOKEN_URL: `${oidcIssuer}/token`,
  ATOM_PROVIDERS__PLAIN__CLIENT_ID: 'atom-e2e',
  ATOM_PROVIDERS__PLAIN__CLIENT_SECRET: 'atom-e2e-secret',
  ATOM_PROVIDERS__PLAIN__CLIENT_AUTH: 'client_secret_post',
  ATOM_PROVIDERS__PLAIN__DISPLAY_NAME: 'Plain OAuth',
  ATOM_PROVIDERS__PLAIN__SCOPES: 'openid',
  // The sandbox's hostile authorization server (server/src/sandbox/hostile.rs): markup in
  // every string it sends back (hostile.spec.ts).
  ATOM_PROVIDERS__HOSTILE__KIND: 'oauth2',
  ATOM_PROVIDERS__HOSTILE__DISPLAY_NAME: 'Hostile',
  ATOM_PROVIDERS__HOSTILE__AUTHORIZE_URL: 'http://127.0.0.1:5159/hostile/authorize',
  ATOM_PROVIDERS__HOSTILE__TOKEN_URL: 'http://127.0.0.1:5159/hostile/token',
  ATOM_PROVIDERS__HOSTILE__USERINFO_URL: 'http://127.0.0.1:5159/hostile/userinfo',
  ATOM_PROVIDERS__HOSTILE__CLIENT_ID: 'hostile-client',
  ATOM_PROVIDERS__HOSTILE__CLIENT_SECRET: 'hostile-secret',
  // Single sign-on to the dashboard through the same oidc-provider (sso.spec.ts): people of
  // corp.test, administrators by the atom-admins group.
  ATOM_AUTH__OIDC__ISSUER: oidcIssuer,
  ATOM_AUTH__OIDC__CLIENT_ID: 'atom-e2e',
  ATOM_AUTH__OIDC__CLIENT_SECRET: 'atom-e2e-secret',
  ATOM_AUTH__OIDC__DISPLAY_NAME: 'Corp SSO',
  ATOM_AUTH__OIDC__ADMIN_CLAIM: 'groups',
  ATOM_AUTH__OIDC__ADMIN_VALUE: 'atom-admins',
  ATOM_AUTH__OIDC__ALLOWED_DOMAINS: '[corp.test]',
};

// A second hub on the same database, as behind a load balancer: same public URL, its own
// port; the first hub serves the sandbox.
export const secondURL = 'http://localhost:5258';
export const secondHubEnv: Record<string, string> = {
  ...hubEnv,
  ATOM_SERVER__LISTEN: '127.0.0.1:5258',
  ATOM_SANDBOX__EMBEDDED: 'false',
};

export const oidcEnv: Record<string, string> = {
  OIDC_HOST: '127.0.0.2',
  OIDC_PORT: '5160',
  OIDC_CLIENT_ID: 'atom-e2e',
  OIDC_CLIENT_SECRET: 'atom-e2e-secret',
  OIDC_REDIRECT_URIS: `${baseURL}/api/auth/oidc/callback,${baseURL}/api/auth/plain/callback,${baseURL}/auth/sso/callback`,
};

export const USERNAME = 'alice';
export const ADMIN_USERNAME = 'root';
export const PASSWORD = 'correct horse battery staple';
