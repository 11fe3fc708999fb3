#!/usr/bin/env bash
# Dashboard numbers for BENCHMARKS.md (called by bench.sh with the release build in place);
# prints a Markdown section. Loopback only, bounded: 1,000 event streams and one change, on one
# SQLite instance and across two PostgreSQL instances; 20 page loads in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests >&2 # Chromium and Playwright for the page loads
source scripts/env.sh
atom="$CARGO_TARGET_DIR/release/atom"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# 1,000 streams need 1,000 sockets on each side.
ulimit -n "$(ulimit -Hn)"
export ATOM_DATABASE__URL="sqlite://$work/atom.db?mode=rwc" ATOM_VAULT__KEY_FILE="$work/master.key" \
  ATOM_SERVER__LISTEN=127.0.0.1:5098 ATOM_SERVER__PUBLIC_URL=http://127.0.0.1:5098 \
  ATOM_SANDBOX__LISTEN=127.0.0.1:5099 ATOM_SANDBOX__PUBLIC_URL=http://127.0.0.1:5099 \
  ATOM_SANDBOX__EMBEDDED=false ATOM_LOG=warn ATOM_SERVER__SITE_ROOT="$CARGO_TARGET_DIR/site" \
  ATOM_LIMITS__STREAMS_PER_USER=2000 ATOM_LIMITS__STREAMS_PER_ADDRESS=2000
# The fan-out opens 1,000 streams for one user from one address: over the caps that protect a
# real hub (limits.streams_per_*), raised here for the measurement.
hub="http://127.0.0.1:5098"
"$atom" sandbox >/dev/null 2>&1 &
"$atom" migrate >/dev/null
user_id=$(printf 'bench-password' | "$atom" user add bench --password-stdin | sed -n 's/.*(id \(.*\))$/\1/p')
key=$("$atom" apikey create --name bench --scope connections:write | sed -n 's/^key (shown once, keep it secret): //p')
"$atom" serve >/dev/null 2>>"$work/hub.log" &
hub_pid=$!
for _ in $(seq 50); do curl -fs "$hub/healthz" >/dev/null && break; sleep 0.2; done

field() { node -e "console.log(JSON.parse(process.argv[1])[process.argv[2]])" "$1" "$2"; }
sse=$(node scripts/sse-bench.mjs "$hub" bench bench-password "$key" "$user_id" 1000 "$hub_pid")
tti=$(cd end2end && node bench/tti.mjs "$hub" bench bench-password 20)
kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true

# Two instances on PostgreSQL: the streams open on B, the change made through A (B hears of
# it through the database's notification).
psql -w -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS atom_bench_ui WITH (FORCE)' \
  -c 'CREATE DATABASE atom_bench_ui'
export ATOM_DATABASE__URL="postgres://postgres@127.0.0.1:5432/atom_bench_ui"
"$atom" migrate >/dev/null
pg_user_id=$(printf 'bench-password' | "$atom" user add bench --password-stdin | sed -n 's/.*(id \(.*\))$/\1/p')
pg_key=$("$atom" apikey create --name bench --scope connections:write | sed -n 's/^key (shown once, keep it secret): //p')
"$atom" serve >/dev/null 2>>"$work/hub.log" &
a_pid=$!
other="http://127.0.0.1:5088"
ATOM_SERVER__LISTEN=127.0.0.1:5088 ATOM_SERVER__PUBLIC_URL=$other "$atom" serve >/dev/null 2>>"$work/hub.log" &
b_pid=$!
for url in "$hub" "$other"; do
  for _ in $(seq 50); do curl -fs "$url/healthz" >/dev/null && break; sleep 0.2; done
done
pg_sse=$(node scripts/sse-bench.mjs "$other" bench bench-password "$pg_key" "$pg_user_id" 1000 "$b_pid" "$hub")
kill "$a_pid" "$b_pid"; wait "$a_pid" "$b_pid" 2>/dev/null || true
psql -w -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS atom_bench_ui WITH (FORCE)'

fact sse_p99_sqlite "$(field "$sse" p99_ms)"
fact sse_p99_postgres "$(field "$pg_sse" p99_ms)"
fact tti_p50_ms "$(field "$tti" tti_p50_ms)"
cat <<MD
## Dashboards

Measured by \`make bench\` (scripts/bench-ui.sh): the release hub on SQLite, and for the fan-out
across instances two release hubs on one PostgreSQL database; the sandbox in its own process.

| What | One instance, SQLite | Two instances, PostgreSQL (streams on B, change through A) |
|---|---|---|
| SSE fan-out: open event streams of one user (one per open Connections page) | $(field "$sse" streams) | $(field "$pg_sse" streams) |
| Streams that heard of a disconnect made through the backend API | $(field "$sse" heard) | $(field "$pg_sse" heard) |
| The disconnect answered (it revokes at the sandbox first), ms | $(field "$sse" answered_ms) | $(field "$pg_sse" answered_ms) |
| Time until a stream heard of it: first / p50 / p99 / slowest (goal: p99 under 50 ms) | $(field "$sse" first_ms) / $(field "$sse" p50_ms) / $(field "$sse" p99_ms) / $(field "$sse" max_ms) ms | $(field "$pg_sse" first_ms) / $(field "$pg_sse" p50_ms) / $(field "$pg_sse" p99_ms) / $(field "$pg_sse" max_ms) ms |
| The same p99, counted from when the disconnect was answered (its commit), ms | $(field "$sse" p99_after_answer_ms) | $(field "$pg_sse" p99_after_answer_ms) |
| Hub memory (on PostgreSQL, instance B): before the streams / with them open | $(field "$sse" rss_before_mib) / $(field "$sse" rss_open_mib) MiB | $(field "$pg_sse" rss_before_mib) / $(field "$pg_sse" rss_open_mib) MiB |

| What | Value |
|---|---|
| Connections page, time to interactive (hydrated), warm cache, p50 / p95 of $(field "$tti" runs) loads | $(field "$tti" tti_p50_ms) ms / $(field "$tti" tti_p95_ms) ms |
| Connections page, first contentful paint, p50 | $(field "$tti" fcp_p50_ms) ms |
| Connections page, time to interactive with an empty cache (one load) | $(field "$tti" cold_ms) ms |

Times are from the moment the change was sent, measured by one Rust client on one thread
holding all the streams on the same two cores (server/examples/sse_fanout.rs, driven by
scripts/sse-bench.mjs), so they include the disconnect's own work (the revocation at the
sandbox comes before the commit) and the client's turn through 1,000 sockets. On PostgreSQL a write wakes every instance's
reader at once (the database's notification); on SQLite the instance that made the change
reads at once, and polling every 500 ms covers background jobs. Time to
interactive is taken when the page marks itself hydrated (\`data-hydrated="true"\`), measured
from the navigation's start in Chromium's clock.
MD
