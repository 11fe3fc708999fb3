// Signing in and connecting a service through the sandbox, as a browser would: shared by the
// soak and the benchmarks. As a command: `node scripts/flow.mjs HUB USER PASSWORD SERVICE`
// connects SERVICE for USER and prints nothing (exit 1 on failure).

export async function signIn(hub, username, password) {
  const r = await fetch(`${hub}/auth/signin`, {
    method: 'POST', redirect: 'manual',
    headers: { Origin: hub, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
  });
  const cookie = r.headers.get('set-cookie')?.split(';')[0];
  if (r.status !== 303 || !cookie) throw new Error(`sign-in failed: ${r.status}`);
  return cookie;
}

/**
 * One whole connect flow; null when connected, else what went wrong. With `timing`, its
 * `hub_ms` gets the hub's own share: the authorize and callback requests as this client saw
 * them, less the provider's time the callback reports in `Server-Timing`; its `inside_ms`
 * the same as the hub measured it (`Server-Timing`'s `hub` of both, less `provider`),
 * without what this client and the loopback add.
 */
export async function connect(hub, cookie, service, login = 'sandbox-user', timing = null) {
  const began = performance.now();
  const start = await fetch(`${hub}/api/auth/${service}/authorize`, { headers: { Cookie: cookie, Accept: 'application/json' } });
  if (start.status !== 200) return `authorize ${start.status}`;
  const authorize = new URL((await start.json()).authorization_url);
  if (timing) {
    timing.hub_ms = performance.now() - began;
    timing.inside_ms = serverTiming(start, 'hub');
  }
  return consentAndReturn(authorize, cookie, service, login, timing);
}

/** A `Server-Timing` metric's duration in ms (0 when the answer has none). */
function serverTiming(response, name) {
  const found = new RegExp(`(?:^|,\\s*)${name};dur=([0-9.]+)`).exec(response.headers.get('server-timing') ?? '');
  return found ? Number(found[1]) : 0;
}

/** The rest of a flow from the provider's authorize URL: consent, then the callback. */
export async function consentAndReturn(authorize, cookie, service, login = 'sandbox-user', timing = null) {
  const form = new URLSearchParams(authorize.searchParams);
  form.set('login', login);
  form.set('decision', 'allow');
  const consent = await fetch(`${authorize.origin}${authorize.pathname}`, { method: 'POST', redirect: 'manual', body: form });
  const callback = consent.headers.get('location');
  if (consent.status !== 303 || !callback) return `consent ${consent.status}`;
  const returned = performance.now();
  const done = await fetch(callback, { redirect: 'manual', headers: { Cookie: cookie } });
  if (timing) {
    const provider = serverTiming(done, 'provider');
    timing.hub_ms += performance.now() - returned - provider;
    timing.inside_ms += serverTiming(done, 'hub') - provider;
  }
  const back = done.headers.get('location') ?? '';
  return done.status === 303 && back.includes(`connected=${service}`) ? null : `callback ${done.status} ${back}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [hub, username, password, service] = process.argv.slice(2);
  const problem = await connect(hub, await signIn(hub, username, password), service);
  if (problem) {
    console.error(`connecting ${service} failed: ${problem}`);
    process.exit(1);
  }
}
