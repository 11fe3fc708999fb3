#!/usr/bin/env bash
# The soak: the release hub under mixed traffic (status checks, backend token requests, whole
# connect flows through the sandbox) for SOAK_SECONDS (default 600) from SOAK_CALLERS (default
# 8) concurrent callers on 127.0.0.1. Zero failed requests and flat memory are the bar; the
# numbers replace the "Soak" section of BENCHMARKS.md (the other sections stay as they are).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo leptos build --release >/dev/null 2>&1

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export ATOM_DATABASE__URL="sqlite://$work/atom.db?mode=rwc" ATOM_VAULT__KEY_FILE="$work/master.key" \
  ATOM_SERVER__LISTEN=127.0.0.1:5078 ATOM_SERVER__PUBLIC_URL=http://127.0.0.1:5078 \
  ATOM_SANDBOX__LISTEN=127.0.0.1:5079 ATOM_SANDBOX__PUBLIC_URL=http://127.0.0.1:5079 \
  ATOM_SERVER__SITE_ROOT="$CARGO_TARGET_DIR/site" ATOM_LOG=warn ATOM_SANDBOX__EMBEDDED=false \
  ATOM_LIMITS__CONNECT_PER_USER=1000000 ATOM_LIMITS__CALLBACK_PER_ADDRESS=1000000 \
  ATOM_LIMITS__MUTATION_PER_ADDRESS=1000000 ATOM_LIMITS__API_PER_KEY=100000000 \
  ATOM_LIMITS__SIGN_IN_PER_ACCOUNT=1000000 ATOM_LIMITS__SIGN_IN_PER_ADDRESS=1000000 \
  ATOM_LIMITS__SIGN_IN_PER_ACCOUNT_UNKNOWN_ADDRESSES=1000000
atom="$CARGO_TARGET_DIR/release/atom"
"$atom" migrate >/dev/null
user_id=$(printf 'soak-password' | "$atom" user add soak --password-stdin | sed -n 's/.*(id \(.*\))$/\1/p')
key=$("$atom" apikey create --name soak --scope tokens:read | sed -n 's/^key (shown once, keep it secret): //p')
# The sandbox in its own process: it keeps every token it ever issued in memory, and the
# memory measured must be the hub's alone.
"$atom" sandbox >/dev/null 2>&1 &
"$atom" serve >"$work/hub.out" 2>"$work/hub.log" &
hub=$!
for _ in $(seq 50); do curl -fs http://127.0.0.1:5078/healthz >/dev/null && break; sleep 0.2; done

result=$(SOAK_USER_ID="$user_id" node scripts/soak.mjs http://127.0.0.1:5078 soak soak-password "$key" "$hub")
echo "$result"
field() { node -e "const r=JSON.parse(process.argv[1]); console.log($1)" "$result"; }
section=$(cat <<MD
## Soak

Measured by \`make soak\` (scripts/soak.sh) on $(date -u +%Y-%m-%d), $(nproc) cores: the release
hub on SQLite (the sandbox in a process of its own), $(field r.callers) concurrent callers for $(field r.seconds) s on 127.0.0.1. Each caller
loops: every fiftieth request a sign-in (every other one with a wrong password: each costs an
argon2 hash), every tenth a whole GitHub connect flow through the sandbox (authorize, consent,
callback), a third of the rest \`GET /api/v1/…/token\` with an API key, the others the signed-in
\`GET /api/auth/github/status\`.

| What | Count | p50 | p99 |
|---|---|---|---|
| Status checks | $(field r.summary.status.count) | $(field r.summary.status.p50_ms) ms | $(field r.summary.status.p99_ms) ms |
| Token API | $(field r.summary.token.count) | $(field r.summary.token.p50_ms) ms | $(field r.summary.token.p99_ms) ms |
| Sign-ins (half wrong) | $(field r.summary.sign_in.count) | $(field r.summary.sign_in.p50_ms) ms | $(field r.summary.sign_in.p99_ms) ms |
| Connect flows (3 requests each) | $(field r.summary.flow.count) | $(field r.summary.flow.p50_ms) ms | $(field r.summary.flow.p99_ms) ms |

Failed requests: **$(field r.failures)**. Resident memory of the hub: $(field r.rss_mib.start) MiB at the start,
$(field r.rss_mib.after_30s) MiB after 30 s, at most $(field r.rss_mib.max) MiB, $(field r.rss_mib.end) MiB at the end; by minute:
$(field "r.rss_mib_by_minute.join(', ')") MiB.
MD
)
# Replace the Soak section in place (up to the next section), or add it at the end.
printf '%s\n' "$section" >"$work/soak.md"
if [ -f BENCHMARKS.md ] && grep -qx '## Soak' BENCHMARKS.md; then
  awk -v new="$work/soak.md" '
    /^## Soak$/ { while ((getline line < new) > 0) print line; skipping = 1; next }
    skipping && /^## / { skipping = 0; print "" }
    !skipping' BENCHMARKS.md >"$work/benchmarks.md"
  cp "$work/benchmarks.md" BENCHMARKS.md
else
  printf '\n%s\n' "$section" >> BENCHMARKS.md
fi
[ "$(field r.failures)" = 0 ] || { echo "the soak saw failed requests" >&2; exit 1; }
# Flat memory: after the first 30 s (caches filling), at most 8 MiB more by the end.
growth=$(field "Math.round(r.rss_mib.end - r.rss_mib.after_30s)")
[ "$growth" -le 8 ] || { echo "the hub's memory grew by $growth MiB after warm-up" >&2; exit 1; }
# Sign-ins in the mix: password hashing's memory is bounded (issue 19: under 64 MiB).
peak=$(field "Math.round(r.rss_mib.max)")
[ "$peak" -lt 64 ] || { echo "the hub reached $peak MiB (the bound is 64)" >&2; exit 1; }
