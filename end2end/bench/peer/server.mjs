// The reference peer of `make bench` (issue 19): what a team would write with stock npm parts,
// Express + grant + express-session in one process, doing the hub's job against the same
// sandbox GitHub: sign in, connect (authorize with state and PKCE, consent, callback with the
// code exchange and the who-am-I call), and a signed-in status of the service. Sessions live
// in express-session's default in-memory store, tokens in the session (nothing encrypted,
// nothing audited: the peer does less than the hub, never more).
//
// node server.mjs PORT SANDBOX_URL
import express from 'express';
import session from 'express-session';
import grant from 'grant';

const [port, sandbox] = [Number(process.argv[2] ?? 5080), process.argv[3] ?? 'http://127.0.0.1:5069'];
const origin = `http://127.0.0.1:${port}`;
const app = express();
app.disable('x-powered-by');
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret: 'bench-peer-secret', resave: false, saveUninitialized: false }));

app.post('/auth/signin', (req, res) => {
  const { username, password } = req.body ?? {};
  if (username !== 'bench' || password !== 'bench-password') return res.redirect(303, '/signin?error=1');
  req.session.regenerate(() => {
    req.session.user = username;
    res.redirect(303, '/connections');
  });
});

const signedIn = (req, res, next) => (req.session.user ? next() : res.status(401).json({ error: 'unauthorized' }));

// Before grant: it would take /api/auth/github/status for an override named "status".
app.get('/api/auth/:service/status', signedIn, (req, res) => {
  const connection = req.session.connections?.[req.params.service];
  res.json(connection
    ? { service: req.params.service, status: 'connected', account: connection.login, scopes: connection.scope }
    : { service: req.params.service, status: 'not_connected' });
});

app.use('/api/auth', signedIn);
app.use(grant.express({
  defaults: { origin, prefix: '/api/auth', transport: 'state', state: true, pkce: true },
  github: {
    key: 'sandbox-github',
    secret: 'sandbox-secret-not-for-production',
    scope: ['read:user'],
    authorize_url: `${sandbox}/github/login/oauth/authorize`,
    access_url: `${sandbox}/github/login/oauth/access_token`,
    profile_url: `${sandbox}/github/user`,
    response: ['tokens', 'profile'],
  },
}));

// grant's callback answered: keep the tokens in the session, as the hub keeps them in its store.
app.get('/api/auth/:service/callback', (req, res) => {
  const answer = res.locals.grant?.response;
  if (!answer?.access_token) return res.redirect(303, `/connections?error=${encodeURIComponent(answer?.error ?? 'failed')}`);
  req.session.connections = {
    ...req.session.connections,
    [req.params.service]: { access_token: answer.access_token, login: answer.profile?.login, scope: answer.raw?.scope },
  };
  res.redirect(303, `/connections?connected=${req.params.service}`);
});

app.listen(port, '127.0.0.1');
