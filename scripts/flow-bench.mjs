// Whole connect flows (authorize, consent at the sandbox, callback) as fast as CONCURRENCY
// browsers can make them for SECONDS, against the hub or the reference peer; prints JSON.
// `node scripts/flow-bench.mjs hub|peer URL CONCURRENCY SECONDS`
// Loopback only; bounded by SECONDS. Each browser signs in once (user bench, password
// bench-password) and connects GitHub again and again.
import { connect, consentAndReturn, signIn } from './flow.mjs';

const [kind, target, concurrencyArg, secondsArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const until = performance.now() + 1000 * Number(secondsArg);

/** The peer's flow: grant answers the start with a redirect, not the hub's JSON. */
async function connectPeer(cookie) {
  const start = await fetch(`${target}/api/auth/github`, { redirect: 'manual', headers: { Cookie: cookie } });
  const location = start.headers.get('location');
  if (start.status !== 302 || !location) return `authorize ${start.status}`;
  return consentAndReturn(new URL(location), cookie, 'github');
}

const took = [];
const hubShare = []; // the hub's: its two requests less the provider's time (Server-Timing)
const inside = []; // the same as the hub timed them (Server-Timing's `hub`)
const failures = [];
async function browser() {
  const cookie = await signIn(target, 'bench', 'bench-password');
  while (performance.now() < until) {
    const began = performance.now();
    const timing = { hub_ms: 0, inside_ms: 0 };
    const problem = kind === 'peer' ? await connectPeer(cookie) : await connect(target, cookie, 'github', undefined, timing);
    if (problem) failures.push(problem);
    else {
      took.push(performance.now() - began);
      if (kind !== 'peer') {
        hubShare.push(timing.hub_ms);
        inside.push(timing.inside_ms);
      }
    }
  }
}
const began = performance.now();
await Promise.all(Array.from({ length: concurrency }, browser));
const seconds = (performance.now() - began) / 1000;
took.sort((a, b) => a - b);
hubShare.sort((a, b) => a - b);
inside.sort((a, b) => a - b);
const quantile = (list, q) => (list.length ? list[Math.min(list.length - 1, Math.floor(q * list.length))] : 0);
const at = (q) => quantile(took, q);
console.log(JSON.stringify({
  flows: took.length,
  failures: failures.length,
  first_failure: failures[0] ?? null,
  per_second: Number((took.length / seconds).toFixed(1)),
  p50_ms: Number(at(0.5).toFixed(2)),
  p99_ms: Number(at(0.99).toFixed(2)),
  hub_share_p50_ms: Number(quantile(hubShare, 0.5).toFixed(2)),
  hub_share_p99_ms: Number(quantile(hubShare, 0.99).toFixed(2)),
  hub_inside_p50_ms: Number(quantile(inside, 0.5).toFixed(2)),
  hub_inside_p99_ms: Number(quantile(inside, 0.99).toFixed(2)),
}));
