// Issue 19's goals from one `make bench` run: each with the hub's number, its reference's
// (the peer, a bare axum handler, the sandbox answering directly) and the ratio, all measured
// in that run. Reads the "name value" lines the bench scripts wrote (`fact` in env.sh) and
// prints a Markdown section.
// `node scripts/bench-goals.mjs FACTS_FILE`
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const facts = Object.fromEntries(
  readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((line) => {
    const [name, ...value] = line.trim().split(/\s+/);
    return [name, value.join(' ')];
  }),
);

/** A number from the facts; wrk's latencies ("423.00us", "7.70ms", "1.02s") in ms. */
function n(name) {
  const raw = facts[name];
  if (raw === undefined || raw === '') return NaN;
  const unit = /(us|ms|s)$/.exec(raw)?.[1];
  const value = parseFloat(raw);
  return unit === 'us' ? value / 1000 : unit === 's' ? value * 1000 : value;
}
const show = (value, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)).toString() : '–');
const times = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–');
const yes = (...checks) => (checks.some((c) => c === undefined || Number.isNaN(c)) ? '–' : checks.every(Boolean) ? '**yes**' : 'no');

const rows = [];
/** A goal on both databases, against one reference: `met(ratio or value)` decides. */
function both(goal, metric, reference, referenceName, met, { asRatio = true, digits = 2 } = {}) {
  const [s, p, r] = [n(`sqlite_${metric}`), n(`postgres_${metric}`), reference === null ? NaN : n(reference)];
  const pass = (value) => (Number.isNaN(value) ? undefined : met(asRatio ? value / r : value));
  rows.push([goal, show(s, digits), show(p, digits), reference === null ? '' : `${show(r, digits)} (${referenceName})`,
    asRatio ? times(s, r) : '', asRatio ? times(p, r) : '', yes(pass(s), pass(p))]);
}
/** A goal measured once (on SQLite unless it says otherwise). */
function one(goal, value, reference, ratio, met) {
  rows.push([goal, value, '', reference, ratio, '', met]);
}

both('Signed-in status: ≥ 10× the peer\'s req/s (16)', 'status_rps', 'peer_status_rps', 'peer', (x) => x >= 10, { digits: 0 });
both('… ≥ 0.5× a bare axum handler\'s req/s', 'status_rps', 'bare_rps', 'bare axum', (x) => x >= 0.5, { digits: 0 });
both('… p99 < 2 ms (16), ms', 'status_p99', null, '', (x) => x < 2, { asRatio: false });
both('… ≤ 0.1× the peer\'s CPU per request, ms', 'status_cpu', 'peer_status_cpu', 'peer', (x) => x <= 0.1, { digits: 4 });
both('Connect flows: ≥ 5× the peer\'s flows/s (1)', 'flow1', 'peer_flow1', 'peer', (x) => x >= 5, { digits: 1 });
both('… ≥ 5× the peer\'s flows/s (16)', 'flow16', 'peer_flow16', 'peer', (x) => x >= 5, { digits: 1 });
both('… ≤ 0.2× the peer\'s CPU per flow (16), ms', 'flow16_cpu', 'peer_flow16_cpu', 'peer', (x) => x <= 0.2, { digits: 3 });
both('… the hub\'s own share p99 < 3 ms (1, as the hub timed it), ms', 'inside1_p99', null, '', (x) => x < 3, { asRatio: false });
const [tokens, direct, tokenP99] = [n('token_rps'), n('token_direct_rps'), n('token_p99')];
one('Token API, fresh token: 20 k req/s (16; SQLite)', show(tokens, 0), `${show(direct, 0)} (the sandbox's Graph \`/me\` directly)`,
  times(tokens, direct), yes(tokens >= 20000));
one('… p99 < 3 ms, ms', show(tokenP99), '', '', yes(tokenP99 < 3));
rows.push(['Live updates: 1,000 streams hear a change, p99 < 50 ms (one instance on SQLite; two on PostgreSQL), ms',
  show(n('sse_p99_sqlite'), 0), show(n('sse_p99_postgres'), 0), '', '', '', yes(n('sse_p99_sqlite') < 50, n('sse_p99_postgres') < 50)]);
one('Cold start to ready < 200 ms, ms', show(n('ready_ms'), 0), '', '', yes(n('ready_ms') < 200));
one('Idle memory < 32 MiB, MiB', show(n('rss_idle_mib'), 0), '', '', yes(n('rss_idle_mib') < 32));
one('Memory after 96 sign-ins, 8 at a time, and 30 s later < 64 MiB, MiB', `${show(n('rss_bursts_mib'), 0)} / ${show(n('rss_after_mib'), 0)}`,
  '', '', yes(n('rss_bursts_mib') < 64, n('rss_after_mib') < 64));
one('Release wasm, gzip -9 < 400 KB, KiB', show(n('wasm_gz_kib'), 0), '', '', yes(n('wasm_gz_kib') * 1024 < 400000));
one('Connections page, time to interactive p50, ms', show(n('tti_p50_ms'), 0), '', '', '');

// What the machine allows a flow: bare axum's flow with the same driver, sandbox and client.
const [bare1, bare16, bareCpu] = [n('bare_flow1'), n('bare_flow16'), n('bare_flow16_cpu')];
const [need1, need16, needCpu] = [5 * n('peer_flow1'), 5 * n('peer_flow16'), n('peer_flow16_cpu') / 5];

const cells = (row) => `| ${row.join(' | ')} |`;
console.log(`## Issue 19's goals, from this run

Written by \`make bench\` (scripts/bench-goals.mjs) from the numbers of the sections above, all
measured in this one run on ${availableParallelism()} cores. "–" is a number the run did not get.

${cells(['Goal', 'Hub, SQLite', 'Hub, PostgreSQL', 'Reference', 'Ratio, SQLite', 'Ratio, PostgreSQL', 'Met'])}
${cells(Array(7).fill('---'))}
${rows.map(cells).join('\n')}

What this machine allows a connect flow, from bare axum's flow in the same run (no database,
no sealing, no audit; the same driver, sandbox and HTTP client): ${show(bare1, 1)} flows/s at 1
and ${show(bare16, 1)} at 16, with ${show(bareCpu, 3)} ms of server CPU per flow. Five times the peer
needs ${show(need1, 0)} and ${show(need16, 0)} flows/s (${need1 <= bare1 && need16 <= bare16 ? 'no more than' : 'more than'} bare axum made), and a fifth of
its CPU is ${show(needCpu, 3)} ms per flow (${needCpu >= bareCpu ? 'no less than' : 'less than'} bare axum used). Health in O(1) is by
construction (\`domain::health\`), not a number of this run.`);
