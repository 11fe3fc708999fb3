#!/usr/bin/env bash
# Dashboard numbers for BENCHMARKS.md (called by bench.sh with the release build in place);
# prints a Markdown section. Loopback only, bounded: 1,000 event streams and one change; 20
# page loads in headless Chromium.
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

cat <<MD
## Dashboards

Measured by \`make bench\` (scripts/bench-ui.sh): the release hub on SQLite, the sandbox in its
own process.

| What | Value |
|---|---|
| SSE fan-out: open event streams of one user (one per open Connections page) | $(field "$sse" streams) |
| Streams that heard of a disconnect made through the backend API | $(field "$sse" heard) |
| Time until a stream heard of it: p50 / p99 / slowest | $(field "$sse" p50_ms) ms / $(field "$sse" p99_ms) ms / $(field "$sse" max_ms) ms |
| Hub memory: before the streams / with $(field "$sse" streams) streams open | $(field "$sse" rss_before_mib) MiB / $(field "$sse" rss_open_mib) MiB |
| Connections page, time to interactive (hydrated), warm cache, p50 / p95 of $(field "$tti" runs) loads | $(field "$tti" tti_p50_ms) ms / $(field "$tti" tti_p95_ms) ms |
| Connections page, first contentful paint, p50 | $(field "$tti" fcp_p50_ms) ms |
| Connections page, time to interactive with an empty cache (one load) | $(field "$tti" cold_ms) ms |

On PostgreSQL a write wakes every instance's reader at once (the database's notification);
one SQLite instance reads new audit events every 500 ms, so a change reaches its pages within
about half a second plus the page's own fetch. Time to
interactive is taken when the page marks itself hydrated (\`data-hydrated="true"\`), measured
from the navigation's start in Chromium's clock.
MD
