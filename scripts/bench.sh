#!/usr/bin/env bash
# Measures build times, release wasm size, idle memory and request rates; writes BENCHMARKS.md.
# Loopback only, bounded: each load run lasts 10 s with 16 connections.
# COLD=0 skips the cold build (about 5 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench
source scripts/env.sh
seconds() { local start=$SECONDS; "$@" >/dev/null 2>&1; echo $((SECONDS - start)); }

cold="skipped"
if [ "${COLD:-1}" = 1 ]; then
  fresh=$(mktemp -d)
  cold="$(CARGO_TARGET_DIR=$fresh seconds cargo leptos build) s"
  rm -rf "$fresh"
fi
cargo leptos build >/dev/null 2>&1
touch app/src/lib.rs
warm="$(seconds cargo leptos build) s"

cargo leptos build --release >/dev/null 2>&1
RUSTFLAGS="$ATOM_TEST_RUSTFLAGS" cargo build --release -p atom --example bare_axum --example sse_fanout >/dev/null 2>&1
wasm="$CARGO_TARGET_DIR/site/pkg/atom.wasm"
wasm_raw=$(stat -c %s "$wasm")
wasm_gz=$(gzip -9 -c "$wasm" | wc -c)

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# Each script's numbers for the goals table at the end.
export BENCH_FACTS="$work/facts"
export ATOM_DATABASE__URL="sqlite://$work/atom.db?mode=rwc" ATOM_VAULT__KEY_FILE="$work/master.key" \
  ATOM_SERVER__LISTEN=127.0.0.1:5068 ATOM_SERVER__PUBLIC_URL=http://127.0.0.1:5068 \
  ATOM_SANDBOX__LISTEN=127.0.0.1:5069 ATOM_SANDBOX__PUBLIC_URL=http://127.0.0.1:5069 \
  ATOM_SERVER__SITE_ROOT="$CARGO_TARGET_DIR/site" ATOM_LOG=warn \
  ATOM_LIMITS__SIGN_IN_PER_ACCOUNT=100000 ATOM_LIMITS__SIGN_IN_PER_ADDRESS=100000 \
  ATOM_LIMITS__SIGN_IN_PER_ACCOUNT_UNKNOWN_ADDRESSES=100000
atom="$CARGO_TARGET_DIR/release/atom"
"$atom" migrate >/dev/null
printf 'bench-password' | "$atom" user add bench --password-stdin >/dev/null
started=$(date +%s%N)
"$atom" serve 2>"$work/hub.log" &
hub=$!
for _ in $(seq 2500); do curl -fs http://127.0.0.1:5068/readyz >/dev/null 2>&1 && break; sleep 0.002; done
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
sleep 2
rss=$(awk '/VmRSS/ {print $2}' "/proc/$hub/status")

# Sign-in bursts (issue 19): 12 bursts of 8 concurrent sign-ins, half of them wrong passwords
# (hashed all the same), then the RSS, and again after 30 s idle.
for _ in $(seq 12); do
  pids=()
  for i in $(seq 8); do
    password=bench-password; [ $((i % 2)) = 0 ] || password="wrong-$i"
    curl -s -o /dev/null -H 'Origin: http://127.0.0.1:5068' \
      -d "username=bench&password=$password" http://127.0.0.1:5068/auth/signin &
    pids+=($!)
  done
  wait "${pids[@]}"
done
rss_bursts=$(awk '/VmRSS/ {print $2}' "/proc/$hub/status")
sleep 30
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$hub/status")
fact ready_ms "$ready_ms"
fact rss_idle_mib "$((rss / 1024))"
fact rss_bursts_mib "$((rss_bursts / 1024))"
fact rss_after_mib "$((rss_after / 1024))"
fact wasm_gz_kib "$((wasm_gz / 1024))"

# The soak (make soak) keeps its own section at the end of the file.
soak_section=$(sed -n '/^## Soak$/,$p' BENCHMARKS.md 2>/dev/null || true)
cat > BENCHMARKS.md <<MD
# Benchmarks

Measured by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,
$(rustc --version). Loopback only; wrk with 2 threads and 16 connections for 10 s per endpoint.

| What | Value | Command |
|---|---|---|
| Cold dev build (\`cargo leptos build\`, empty target dir) | $cold | \`CARGO_TARGET_DIR=\$(mktemp -d) cargo leptos build\` |
| Warm dev build after touching app/src/lib.rs | $warm | \`cargo leptos build\` |
| Release wasm, raw | $((wasm_raw / 1024)) KiB | \`cargo leptos build --release\`, size of site/pkg/atom.wasm |
| Release wasm, gzip -9 (target: under 400 KB) | $((wasm_gz / 1024)) KiB | \`gzip -9 -c atom.wasm \| wc -c\` |
| Cold start to ready (\`atom serve\` until \`/readyz\` answers 200; target: under 200 ms) | $ready_ms ms | polled every 2 ms |
| Idle RSS of the release \`atom serve\` (SQLite, 2 s after start) | $((rss / 1024)) MiB | VmRSS from /proc |
| RSS after 12 bursts of 8 concurrent sign-ins, half wrong (target: under 64 MiB) | $((rss_bursts / 1024)) MiB | 96 \`POST /auth/signin\`, 8 at a time |
| The same, 30 s later | $((rss_after / 1024)) MiB | VmRSS from /proc |

The release wasm is built with type-erased views (\`always-erase-components\` in Cargo.toml); without them it was 425 KiB
gzipped on 2026-11-26, over the 400 KB target.
MD
kill "$hub" 2>/dev/null || true
printf '\n' >> BENCHMARKS.md
scripts/bench-tokens.sh >> BENCHMARKS.md
printf '\n' >> BENCHMARKS.md
scripts/bench-peer.sh >> BENCHMARKS.md
printf '\n' >> BENCHMARKS.md
scripts/bench-ui.sh >> BENCHMARKS.md
printf '\n' >> BENCHMARKS.md
node scripts/bench-goals.mjs "$BENCH_FACTS" >> BENCHMARKS.md
if [ -n "$soak_section" ]; then printf '\n%s\n' "$soak_section" >> BENCHMARKS.md; fi
cat BENCHMARKS.md
