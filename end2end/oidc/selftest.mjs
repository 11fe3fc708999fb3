// Self test of oidc/server.mjs: one authorization code + PKCE flow end to end, then
// refresh (rotation, reuse detection), introspection and revocation.
//
//   node end2end/oidc/selftest.mjs
//
// Starts its own server on 127.0.0.2:$SELFTEST_PORT (5169) unless OIDC_ISSUER names a running
// one (which must then use the default client). Exits non-zero on the first failure.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const CLIENT_ID = process.env.OIDC_CLIENT_ID || 'atom-e2e';
const CLIENT_SECRET = process.env.OIDC_CLIENT_SECRET || 'atom-e2e-secret';
const REDIRECT_URI = 'http://localhost:5158/api/auth/oidc/callback';
const b64u = (buf) => buf.toString('base64url');
const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64');

let failures = 0;
let passes = 0;
function check(cond, what, extra) {
  if (cond) { passes++; console.log(`ok   ${what}`); }
  else { failures++; console.log(`FAIL ${what}`, extra === undefined ? '' : JSON.stringify(extra)); }
  return cond;
}

let child;
async function startServer() {
  if (process.env.OIDC_ISSUER) return process.env.OIDC_ISSUER;
  const port = process.env.SELFTEST_PORT || '5169';
  child = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], {
    env: { ...process.env, OIDC_HOST: '127.0.0.2', OIDC_PORT: port, OIDC_REDIRECT_URIS: REDIRECT_URI, OIDC_CLIENT_AUTH: 'client_secret_basic' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start in 10s')), 10000);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.on('data', (d) => {
      process.stdout.write(`[server] ${d}`);
      const m = /oidc-provider listening on (\S+)/.exec(String(d));
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
}

// Minimal cookie jar for one host: the browser's part of the flow.
const jar = new Map();
function store(res) {
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(';');
    const i = pair.indexOf('=');
    const name = pair.slice(0, i).trim();
    const expired = attrs.some((a) => /^\s*max-age=0/i.test(a)
      || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
    if (expired) jar.delete(name); else jar.set(name, pair.slice(i + 1).trim());
  }
}
const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

// Follows redirects like a browser until one points at the client's redirect_uri.
async function browse(url) {
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader() } });
    store(res);
    const loc = res.headers.get('location');
    if (!loc) throw new Error(`no redirect from ${url}: ${res.status} ${await res.text()}`);
    const next = new URL(loc, url);
    if (next.href.startsWith(REDIRECT_URI)) return next;
    url = next.href;
  }
  throw new Error('too many redirects');
}

async function post(url, form, auth = basic) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = { raw: text }; }
  return { status: res.status, json };
}

function authorizeUrl(meta, { challenge, state, extra = {} }) {
  const u = new URL(meta.authorization_endpoint);
  const p = {
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access', state, nonce: b64u(randomBytes(16)), ...extra,
  };
  if (challenge) Object.assign(p, { code_challenge: challenge, code_challenge_method: 'S256' });
  for (const [k, v] of Object.entries(p)) u.searchParams.set(k, v);
  return u.href;
}

async function main() {
  const issuer = await startServer();
  const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  check(meta.issuer === issuer, 'discovery issuer', meta.issuer);
  check(meta.authorization_response_iss_parameter_supported === true, 'discovery advertises iss parameter');
  check(JSON.stringify(meta.code_challenge_methods_supported) === '["S256"]', 'S256 only');
  check(meta.revocation_endpoint && meta.introspection_endpoint, 'revocation and introspection endpoints');

  // Without PKCE the request is refused (at the redirect_uri, with iss).
  const noPkce = await browse(authorizeUrl(meta, { state: 's0' }));
  check(noPkce.searchParams.get('error') === 'invalid_request', 'authorize without PKCE is refused', noPkce.href);

  // The full flow.
  const verifier = b64u(randomBytes(32));
  const challenge = b64u(createHash('sha256').update(verifier).digest());
  const state = b64u(randomBytes(16));
  const cb = await browse(authorizeUrl(meta, { challenge, state }));
  const code = cb.searchParams.get('code');
  check(code, 'code at redirect_uri', cb.href);
  check(cb.searchParams.get('state') === state, 'state echoed');
  check(cb.searchParams.get('iss') === issuer, 'iss in authorization response (RFC 9207)', cb.searchParams.get('iss'));

  const bad = await post(meta.token_endpoint, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: b64u(randomBytes(32)) });
  check(bad.json.error === 'invalid_grant', 'wrong code_verifier is invalid_grant', bad.json);

  // The failed attempt consumed the code: run the flow again (the provider session is reused).
  const verifier2 = b64u(randomBytes(32));
  const cb2 = await browse(authorizeUrl(meta, { challenge: b64u(createHash('sha256').update(verifier2).digest()), state }));
  const tok = await post(meta.token_endpoint, { grant_type: 'authorization_code', code: cb2.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier2 });
  check(tok.status === 200 && tok.json.access_token, 'token exchange with client_secret_basic', tok.json);
  check(tok.json.token_type === 'Bearer', 'token_type Bearer');
  check(tok.json.refresh_token, 'refresh token issued');
  check(tok.json.id_token, 'id_token issued');
  // oidc-provider drops offline_access without prompt=consent (OIDC Core 11); a refresh token
  // is issued anyway (server.mjs issueRefreshToken).
  check(tok.json.scope === 'openid profile email', 'granted scope without prompt=consent', tok.json.scope);

  const ui = await (await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.json.access_token}` } })).json();
  check(ui.sub === 'oidc-user-1' && ui.name === 'Olivia OIDC' && ui.email === 'olivia@example.test'
    && ui.email_verified === true && ui.preferred_username === 'olivia', 'userinfo claims', ui);

  const r1 = await post(meta.token_endpoint, { grant_type: 'refresh_token', refresh_token: tok.json.refresh_token });
  check(r1.status === 200 && r1.json.access_token, 'refresh works', r1.json);
  check(r1.json.refresh_token && r1.json.refresh_token !== tok.json.refresh_token, 'refresh token rotated');
  const reuse = await post(meta.token_endpoint, { grant_type: 'refresh_token', refresh_token: tok.json.refresh_token });
  check(reuse.json.error === 'invalid_grant', 'reused refresh token is invalid_grant', reuse.json);
  const after = await post(meta.token_endpoint, { grant_type: 'refresh_token', refresh_token: r1.json.refresh_token });
  check(after.json.error === 'invalid_grant', 'reuse revoked the whole grant', after.json);

  // Introspection and revocation on a fresh grant.
  const v3 = b64u(randomBytes(32));
  const cb3 = await browse(authorizeUrl(meta, { challenge: b64u(createHash('sha256').update(v3).digest()), state, extra: { prompt: 'consent' } }));
  const t3 = await post(meta.token_endpoint, { grant_type: 'authorization_code', code: cb3.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: v3 });
  check(t3.json.scope === 'openid profile email offline_access', 'granted scope with prompt=consent', t3.json.scope);
  const i1 = await post(meta.introspection_endpoint, { token: t3.json.refresh_token });
  check(i1.json.active === true && i1.json.sub === 'oidc-user-1', 'introspection: refresh token active', i1.json);
  const rev = await post(meta.revocation_endpoint, { token: t3.json.refresh_token, token_type_hint: 'refresh_token' });
  check(rev.status === 200, 'revocation answers 200', rev);
  const i2 = await post(meta.introspection_endpoint, { token: t3.json.refresh_token });
  check(i2.json.active === false, 'introspection: revoked token inactive', i2.json);
  const i3 = await post(meta.introspection_endpoint, { token: t3.json.access_token });
  check(i3.json.active === false, 'revoking the refresh token revoked the grant (access token inactive)', i3.json);
  const unauth = await post(meta.token_endpoint, { grant_type: 'refresh_token', refresh_token: 'x' }, 'Basic ' + Buffer.from(`${CLIENT_ID}:wrong`).toString('base64'));
  check(unauth.status === 401 && unauth.json.error === 'invalid_client', 'wrong client secret is invalid_client', unauth);
}

try {
  await main();
} catch (err) {
  failures++;
  console.log('FAIL', err);
} finally {
  child?.kill();
}
console.log(`selftest: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
