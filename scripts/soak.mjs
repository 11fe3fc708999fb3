// The soak's load: signed-in status checks, backend token requests, whole connect flows
// through the sandbox and sign-ins (half with a wrong password: each costs a password hash,
// whose memory must stay bounded), from a few concurrent callers, for a bounded time on
// 127.0.0.1.
// Prints one JSON line: counts, failures, latency percentiles, the hub's memory over time.
import { readFileSync } from 'node:fs';
import { connect, signIn } from './flow.mjs';

const [hub, username, password, apiKey, pid] = process.argv.slice(2);
const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const callers = Number(process.env.SOAK_CALLERS ?? 8);
const deadline = Date.now() + seconds * 1000;

const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const stats = { status: [], token: [], flow: [], sign_in: [] };
const failures = [];

async function timed(kind, run) {
  const started = performance.now();
  let problem;
  try { problem = await run(); } catch (e) { problem = String(e); }
  stats[kind].push(performance.now() - started);
  if (problem) failures.push(`${kind}: ${problem}`);
}

async function caller(cookie, userId, n) {
  for (let i = n; Date.now() < deadline; i++) {
    if (i % 50 === 25) {
      const wrong = i % 100 === 25;
      await timed('sign_in', async () => {
        const r = await fetch(`${hub}/auth/signin`, {
          method: 'POST', redirect: 'manual',
          headers: { Origin: hub, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password: wrong ? 'not-the-password' : password }),
        });
        await r.arrayBuffer();
        const back = r.headers.get('location') ?? '';
        return r.status === 303 && back === (wrong ? '/signin?error=1' : '/connections') ? null : `HTTP ${r.status} ${back}`;
      });
    } else if (i % 10 === 0) {
      await timed('flow', () => connect(hub, cookie, 'github', 'soak-user'));
    } else if (i % 3 === 0) {
      await timed('token', async () => {
        const r = await fetch(`${hub}/api/v1/users/${userId}/connections/github/token`, { headers: { Authorization: `Bearer ${apiKey}` } });
        await r.arrayBuffer();
        return r.status === 200 ? null : `HTTP ${r.status}`;
      });
    } else {
      await timed('status', async () => {
        const r = await fetch(`${hub}/api/auth/github/status`, { headers: { Cookie: cookie, Accept: 'application/json' } });
        await r.arrayBuffer();
        return r.status === 200 ? null : `HTTP ${r.status}`;
      });
    }
  }
}

const cookie = await signIn(hub, username, password);
const first = await connect(hub, cookie, 'github', 'soak-user');
if (first) throw new Error(`the first connect flow failed: ${first}`);
const list = await fetch(`${hub}/api/auth/github/status`, { headers: { Cookie: cookie, Accept: 'application/json' } });
if (list.status !== 200) throw new Error('status failed');
const userId = process.env.SOAK_USER_ID;
const memory = [];
const sampler = setInterval(() => memory.push(rss()), 10_000);
memory.push(rss());
const began = Date.now();
await Promise.all(Array.from({ length: callers }, (_, n) => caller(cookie, userId, n)));
clearInterval(sampler);
memory.push(rss());

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : 0; };
const summary = Object.fromEntries(Object.entries(stats).map(([k, xs]) => [k, { count: xs.length, p50_ms: +pct(xs, 50).toFixed(2), p99_ms: +pct(xs, 99).toFixed(2) }]));
const settled = memory.slice(Math.min(3, memory.length - 1));
console.log(JSON.stringify({
  seconds: Math.round((Date.now() - began) / 1000), callers, summary,
  failures: failures.length, first_failures: failures.slice(0, 5),
  rss_mib: { start: +memory[0].toFixed(1), after_30s: +settled[0].toFixed(1), max: +Math.max(...memory).toFixed(1), end: +memory.at(-1).toFixed(1) },
  // Every minute (a sample is taken every 10 s).
  rss_mib_by_minute: memory.filter((_, i) => i % 6 === 0).map((m) => +m.toFixed(1)),
}));
