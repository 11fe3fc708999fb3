#!/usr/bin/env bash
# The hub against its reference peer (a stock Express + grant + express-session app,
# end2end/bench/peer) and a bare axum handler, side by side in one run on the same sandbox
# (issue 19); the hub on SQLite and on PostgreSQL. Prints a Markdown section; called by
# bench.sh with the release build in place. Loopback only, bounded: every load run lasts
# 10 s (wrk, 2 threads, 16 connections; flows from 1 or 16 Node browsers).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
atom="$CARGO_TARGET_DIR/release/atom"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
sandbox=http://127.0.0.1:5099
export ATOM_VAULT__KEY_FILE="$work/master.key" ATOM_LOG=warn \
  ATOM_SERVER__LISTEN=127.0.0.1:5098 ATOM_SERVER__PUBLIC_URL=http://127.0.0.1:5098 \
  ATOM_SANDBOX__LISTEN=127.0.0.1:5099 ATOM_SANDBOX__PUBLIC_URL=$sandbox ATOM_SANDBOX__EMBEDDED=false \
  ATOM_SERVER__SITE_ROOT="$CARGO_TARGET_DIR/site" \
  ATOM_LIMITS__CONNECT_PER_USER=100000000 ATOM_LIMITS__CALLBACK_PER_ADDRESS=100000000 \
  ATOM_LIMITS__MUTATION_PER_ADDRESS=100000000 \
  ATOM_LIMITS__SIGN_IN_PER_ACCOUNT=1000 ATOM_LIMITS__SIGN_IN_PER_ADDRESS=1000
hub=http://127.0.0.1:5098 peer=http://127.0.0.1:5097 bare=http://127.0.0.1:5096

# Everyone's provider, in a process of its own (its CPU is nobody's share).
"$atom" sandbox >/dev/null 2>&1 &
node end2end/bench/peer/server.mjs 5097 "$sandbox" &
peer_pid=$!
"$CARGO_TARGET_DIR/release/examples/bare_axum" 5096 "$sandbox" &
bare_pid=$!
up() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; echo "$1 did not start" >&2; exit 1; }
up "$sandbox/"; up "$peer/"; up "$bare/"

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cookie_of() { # URL -> the session cookie of user bench
  curl -s -D - -o /dev/null -H "Origin: $1" -d 'username=bench&password=bench-password' "$1/auth/signin" |
    awk -F'[ ;]' 'tolower($1) == "set-cookie:" {print $2; exit}'
}
status_run() { # PID URL [headers] -> "req/s p99 cpu_ms_per_request"
  local pid=$1 url=$2; shift 2
  local before out after
  before=$(ticks "$pid")
  out=$(wrk -t2 -c16 -d10s --latency "$@" "$url")
  after=$(ticks "$pid")
  awk -v t=$((after - before)) -v hz="$hz" '
    /Requests\/sec/ {rps = $2} /^ +99%/ {p99 = $2} / requests in / {n = $1}
    END {printf "%s %s %.4f\n", rps, p99, 1000 * t / hz / n}' <<<"$out"
}
flow_run() { # PID hub|peer URL CONCURRENCY -> "flows/s p50_ms p99_ms cpu_ms_per_flow failures hub_share_p50 hub_share_p99 inside_p50 inside_p99"
  local pid=$1 before json after
  before=$(ticks "$pid")
  json=$(node scripts/flow-bench.mjs "$2" "$3" "$4" 10)
  after=$(ticks "$pid")
  node -e '
    const r = JSON.parse(process.argv[1]);
    if (r.first_failure) console.error("flow failure:", r.first_failure);
    const cpu = (1000 * Number(process.argv[2]) / Number(process.argv[3])) / Math.max(r.flows, 1);
    console.log(r.per_second, r.p50_ms, r.p99_ms, cpu.toFixed(3), r.failures, r.hub_share_p50_ms, r.hub_share_p99_ms, r.hub_inside_p50_ms, r.hub_inside_p99_ms);' "$json" $((after - before)) "$hz"
}

# The hub on one database: its numbers into hub_<db>_*.
measure_hub() { # name database-url
  export ATOM_DATABASE__URL=$2
  "$atom" migrate >/dev/null
  printf 'bench-password' | "$atom" user add bench --password-stdin >/dev/null
  "$atom" serve >/dev/null 2>>"$work/hub.log" &
  local pid=$!
  up "$hub/healthz"
  local cookie
  cookie=$(cookie_of "$hub")
  node scripts/flow.mjs "$hub" bench bench-password github
  read -r "${1}_status_rps" "${1}_status_p99" "${1}_status_cpu" < <(status_run "$pid" "$hub/api/auth/github/status" -H "Cookie: $cookie")
  read -r "${1}_flow1" "${1}_flow1_p50" "${1}_flow1_p99" "${1}_flow1_cpu" "${1}_flow1_failed" "${1}_share1_p50" "${1}_share1_p99" "${1}_inside1_p50" "${1}_inside1_p99" < <(flow_run "$pid" hub "$hub" 1)
  read -r "${1}_flow16" "${1}_flow16_p50" "${1}_flow16_p99" "${1}_flow16_cpu" "${1}_flow16_failed" "${1}_share16_p50" "${1}_share16_p99" "${1}_inside16_p50" "${1}_inside16_p99" < <(flow_run "$pid" hub "$hub" 16)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # A failed flow's cause, for whoever reads the run's output (the log goes with $work).
  grep -iE 'error|warn' "$work/hub.log" | tail -5 >&2 || true
}
measure_hub sqlite "sqlite://$work/atom.db?mode=rwc"
psql -w -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS atom_bench' -c 'CREATE DATABASE atom_bench'
measure_hub postgres "postgres://postgres@127.0.0.1:5432/atom_bench"

peer_cookie=$(cookie_of "$peer")
node -e '
  const [peer, cookie] = process.argv.slice(1);
  fetch(`${peer}/api/auth/github`, { redirect: "manual", headers: { Cookie: cookie } }).then((r) => process.exit(r.status === 302 ? 0 : 1));' "$peer" "$peer_cookie"
read -r peer_status_rps peer_status_p99 peer_status_cpu < <(status_run "$peer_pid" "$peer/api/auth/github/status" -H "Cookie: $peer_cookie")
read -r peer_flow1 peer_flow1_p50 peer_flow1_p99 peer_flow1_cpu peer_flow1_failed _ < <(flow_run "$peer_pid" peer "$peer" 1)
read -r peer_flow16 peer_flow16_p50 peer_flow16_p99 peer_flow16_cpu peer_flow16_failed _ < <(flow_run "$peer_pid" peer "$peer" 16)
read -r bare_rps bare_p99 bare_cpu < <(status_run "$bare_pid" "$bare/")
# The machine's ceiling of flows: bare axum's flow (no database, no sealing, no audit) with the
# same driver, sandbox and HTTP client.
read -r bare_flow1 bare_flow1_p50 bare_flow1_p99 bare_flow1_cpu bare_flow1_failed _ < <(flow_run "$bare_pid" hub "$bare" 1)
read -r bare_flow16 bare_flow16_p50 bare_flow16_p99 bare_flow16_cpu bare_flow16_failed _ < <(flow_run "$bare_pid" hub "$bare" 16)

for name in sqlite_status_rps postgres_status_rps peer_status_rps bare_rps sqlite_status_p99 \
  postgres_status_p99 sqlite_status_cpu postgres_status_cpu peer_status_cpu sqlite_flow1 postgres_flow1 \
  peer_flow1 bare_flow1 sqlite_flow16 postgres_flow16 peer_flow16 bare_flow16 sqlite_flow16_cpu \
  postgres_flow16_cpu peer_flow16_cpu bare_flow16_cpu sqlite_inside1_p99 postgres_inside1_p99 \
  sqlite_share1_p99 postgres_share1_p99; do
  fact "$name" "${!name}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", a / b}'; }
row() { # a table row of any number of cells
  local line='|' cell
  for cell; do line+=" $cell |"; done
  echo "$line"
}
cat <<MD
## Against the peer

Measured by \`make bench\` (scripts/bench-peer.sh) on $(date -u +%Y-%m-%d), $(nproc) cores, one run:
the release hub on SQLite and on PostgreSQL, the reference peer (Express $(node -p 'require("./end2end/bench/peer/node_modules/express/package.json").version') + grant
$(node -p 'require("./end2end/bench/peer/node_modules/grant/package.json").version') + express-session, one Node $(node --version) process, sessions in memory:
end2end/bench/peer/server.mjs) and a bare axum handler, each in its own process against the
same sandbox GitHub (its own process too). Server CPU is the process's user + system time
during the run divided by what it served. Flows: \`node scripts/flow-bench.mjs\`, each
browser signed in once, then authorize → consent → callback (code exchange and \`/user\`)
again and again for 10 s; the driver and the sandbox share the same two cores. The hub's own
share of a flow: its authorize and callback requests as the driver timed them, less the time
the callback's \`Server-Timing\` says it waited for the provider (the exchange and \`/user\`);
as the hub timed it: from its outermost middleware to the answer (\`Server-Timing\`'s \`hub\`
on both requests), without what the driver and the loopback add.

| Work | Hub, SQLite | Hub, PostgreSQL | Peer | Goal | Ratio, SQLite | Ratio, PostgreSQL |
|---|---|---|---|---|---|---|
$(row "Signed-in status, req/s (16)" "$sqlite_status_rps" "$postgres_status_rps" "$peer_status_rps" "≥ 10× peer" "$(ratio "$sqlite_status_rps" "$peer_status_rps")" "$(ratio "$postgres_status_rps" "$peer_status_rps")")
$(row "… against the bare axum handler ($bare_rps req/s)" "" "" "" "≥ 0.5×" "$(ratio "$sqlite_status_rps" "$bare_rps")" "$(ratio "$postgres_status_rps" "$bare_rps")")
$(row "Signed-in status, p99 (16)" "$sqlite_status_p99" "$postgres_status_p99" "$peer_status_p99" "< 2 ms" "" "")
$(row "Server CPU per status request, ms" "$sqlite_status_cpu" "$postgres_status_cpu" "$peer_status_cpu" "≤ 0.1× peer" "$(ratio "$sqlite_status_cpu" "$peer_status_cpu")" "$(ratio "$postgres_status_cpu" "$peer_status_cpu")")
$(row "Connect flows/s (1)" "$sqlite_flow1" "$postgres_flow1" "$peer_flow1" "≥ 5× peer" "$(ratio "$sqlite_flow1" "$peer_flow1")" "$(ratio "$postgres_flow1" "$peer_flow1")")
$(row "Connect flow p50 / p99 (1), ms" "$sqlite_flow1_p50 / $sqlite_flow1_p99" "$postgres_flow1_p50 / $postgres_flow1_p99" "$peer_flow1_p50 / $peer_flow1_p99" "" "" "")
$(row "Connect flows/s (16)" "$sqlite_flow16" "$postgres_flow16" "$peer_flow16" "≥ 5× peer" "$(ratio "$sqlite_flow16" "$peer_flow16")" "$(ratio "$postgres_flow16" "$peer_flow16")")
$(row "Connect flow p50 / p99 (16), ms" "$sqlite_flow16_p50 / $sqlite_flow16_p99" "$postgres_flow16_p50 / $postgres_flow16_p99" "$peer_flow16_p50 / $peer_flow16_p99" "" "" "")
$(row "Server CPU per flow (16), ms" "$sqlite_flow16_cpu" "$postgres_flow16_cpu" "$peer_flow16_cpu" "≤ 0.2× peer" "$(ratio "$sqlite_flow16_cpu" "$peer_flow16_cpu")" "$(ratio "$postgres_flow16_cpu" "$peer_flow16_cpu")")
$(row "The hub's own share of a flow p50 / p99 (1), ms" "$sqlite_share1_p50 / $sqlite_share1_p99" "$postgres_share1_p50 / $postgres_share1_p99" "" "p99 < 3 ms" "" "")
$(row "The hub's own share of a flow p50 / p99 (16), ms" "$sqlite_share16_p50 / $sqlite_share16_p99" "$postgres_share16_p50 / $postgres_share16_p99" "" "p99 < 3 ms" "" "")
$(row "… as the hub timed it (\`Server-Timing\`'s \`hub\`), p50 / p99 (1), ms" "$sqlite_inside1_p50 / $sqlite_inside1_p99" "$postgres_inside1_p50 / $postgres_inside1_p99" "" "" "" "")
$(row "… as the hub timed it, p50 / p99 (16), ms" "$sqlite_inside16_p50 / $sqlite_inside16_p99" "$postgres_inside16_p50 / $postgres_inside16_p99" "" "" "" "")
$(row "Failed flows (1 / 16)" "$sqlite_flow1_failed / $sqlite_flow16_failed" "$postgres_flow1_failed / $postgres_flow16_failed" "$peer_flow1_failed / $peer_flow16_failed" "0" "" "")

The bare handler used $bare_cpu ms of CPU per request (p99 $bare_p99).

What the machine allows a connect flow: bare axum's flow (examples/bare_axum.rs: the same
driver, sandbox and HTTP client, state and PKCE checked, and nothing else: no database, no
sealing, no audit, no limits) in the same run.

| Work | Hub, SQLite | Hub, PostgreSQL | Peer | Bare axum flow | Hub ÷ bare, SQLite | Hub ÷ bare, PostgreSQL | Peer ÷ bare |
|---|---|---|---|---|---|---|---|
$(row "Connect flows/s (1)" "$sqlite_flow1" "$postgres_flow1" "$peer_flow1" "$bare_flow1" "$(ratio "$sqlite_flow1" "$bare_flow1")" "$(ratio "$postgres_flow1" "$bare_flow1")" "$(ratio "$peer_flow1" "$bare_flow1")")
$(row "Connect flows/s (16)" "$sqlite_flow16" "$postgres_flow16" "$peer_flow16" "$bare_flow16" "$(ratio "$sqlite_flow16" "$bare_flow16")" "$(ratio "$postgres_flow16" "$bare_flow16")" "$(ratio "$peer_flow16" "$bare_flow16")")
$(row "Connect flow p50 / p99 (1), ms" "$sqlite_flow1_p50 / $sqlite_flow1_p99" "$postgres_flow1_p50 / $postgres_flow1_p99" "$peer_flow1_p50 / $peer_flow1_p99" "$bare_flow1_p50 / $bare_flow1_p99" "" "" "")
$(row "Server CPU per flow (16), ms" "$sqlite_flow16_cpu" "$postgres_flow16_cpu" "$peer_flow16_cpu" "$bare_flow16_cpu" "$(ratio "$sqlite_flow16_cpu" "$bare_flow16_cpu")" "$(ratio "$postgres_flow16_cpu" "$bare_flow16_cpu")" "$(ratio "$peer_flow16_cpu" "$bare_flow16_cpu")")
$(row "Failed flows (1 / 16)" "" "" "" "$bare_flow1_failed / $bare_flow16_failed" "" "" "")
MD
