#!/usr/bin/env bash
# make deploy-test: docs/deploy.md's operations on this machine, under load. Two production
# instances on PostgreSQL behind Debian's nginx, configured by the guide's deploy/nginx.conf
# (only its TLS lines and addresses changed for loopback); while a steady 20 requests a second
# go through nginx: a rolling restart, a rolling upgrade (a newer release's migration applied
# while this release's instances keep running and restart on it), a backup and a restore into a
# new database, a key rotation with its rolling restart. Counts failed requests (any 5xx or
# connection error): the bar is zero. Bounded: a few minutes. Numbers into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
source scripts/env.sh
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
command -v nginx >/dev/null ||
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; }
cargo leptos build >/dev/null 2>&1
atom="$CARGO_TARGET_DIR/debug/atom"
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
db="atom_deploy_$(date +%s)"
pg=postgres://postgres@127.0.0.1:5432
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  psql -q "$pg/test" -c "DROP DATABASE IF EXISTS $db" -c "DROP DATABASE IF EXISTS ${db}_restored" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -q "$pg/test" -c "CREATE DATABASE $db"
step() { printf '==> %s\n' "$*"; }

# The shared environment file and one per instance (what must differ), as the guide has them.
export ATOM_MODE=production ATOM_SERVER__PUBLIC_URL=https://connect.example.test \
  ATOM_DATABASE__URL="$pg/$db" ATOM_VAULT__KEY_FILE="$work/keys/master.key" \
  ATOM_SERVER__SITE_ROOT="$CARGO_TARGET_DIR/site" ATOM_SERVER__TRUSTED_PROXIES='[127.0.0.1]' \
  ATOM_LOG=warn
"$atom" keys add --to "$work/keys/master.key" >/dev/null
"$atom" migrate >/dev/null

# The guide's systemd unit, as systemd itself reads it (the binary at the path it names).
unit_check="not checked (no systemd-analyze)"
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$work/units"
  sed "s|/opt/atom/bin/atom|$atom|" deploy/atom@.service >"$work/units/atom@.service"
  cp "$work/units/atom@.service" "$work/units/atom@1.service"
  found=$(systemd-analyze verify --man=no "$work/units/atom@1.service" 2>&1 | grep -v "^$" || true)
  [ -z "$found" ] || { echo "deploy/atom@.service: $found" >&2; exit 1; }
  unit_check="\`systemd-analyze verify\` finds nothing in deploy/atom@.service"
fi

declare -A pids
start() { # instance number
  local port=$((5360 + $1))
  ATOM_SERVER__LISTEN="127.0.0.1:$port" ATOM_SERVER__METRICS_LISTEN="127.0.0.1:$((9360 + $1))" \
    "$atom" serve >>"$work/hub-$1.log" 2>&1 &
  pids[$1]=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.1; done
  echo "instance $1 did not become ready" >&2; exit 1
}
restart() { # instance number: SIGTERM (it drains), wait for the exit, start, wait until ready
  kill -TERM "${pids[$1]}"
  wait "${pids[$1]}" || true
  start "$1"
}
rolling() { restart 1; restart 2; }
start 1
start 2

# deploy/nginx.conf for loopback: plain HTTP on 8361, the two instances as upstreams.
# The port-80 redirect block goes (no TLS here); everything else is the guide's.
awk '/^server \{$/ { block = $0 "\n"; inside = 1; next }
     inside { block = block $0 "\n"; if ($0 == "}") { inside = 0; if (block !~ /return 301/) printf "%s", block }; next }
     { print }' deploy/nginx.conf |
  sed -e 's/^    server 127.0.0.1:5058 max_fails=0;/    server 127.0.0.1:5361 max_fails=0;\n    server 127.0.0.1:5362 max_fails=0;/' \
    -e 's/listen 443 ssl http2;/listen 127.0.0.1:8361;/' -e '/listen \[::\]:443/d' -e '/ssl_/d' \
  >"$work/site.conf"
grep -q 'server 127.0.0.1:5362 max_fails=0;' "$work/site.conf"
grep -q 'proxy_next_upstream' "$work/site.conf"
cat >"$work/nginx.conf" <<CONF
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events {}
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work; proxy_temp_path $work;
  include $work/site.conf;
}
CONF
"$nginx" -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do curl -fs http://127.0.0.1:8361/healthz >/dev/null && break; sleep 0.1; done

# A steady 20 requests a second through nginx until the stop file appears.
python3 - "$work" <<'PY' &
import sys, threading, time, urllib.request, urllib.error, os, json
work = sys.argv[1]
paths = ["/signin", "/api/github/health", "/healthz", "/api/auth/github/authorize"]
counts = {"total": 0, "failed": 0, "by_status": {}}
lock = threading.Lock()
def one(i):
    url = "http://127.0.0.1:8361" + paths[i % len(paths)]
    try:
        req = urllib.request.Request(url, headers={"Accept": "text/html"})
        status = urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception:
        status = 0
    with lock:
        counts["total"] += 1
        counts["by_status"][str(status)] = counts["by_status"].get(str(status), 0) + 1
        if status == 0 or status >= 500:
            counts["failed"] += 1
i = 0
while not os.path.exists(f"{work}/stop"):
    threading.Thread(target=one, args=(i,)).start()
    i += 1
    time.sleep(0.05)
time.sleep(11)
json.dump(counts, open(f"{work}/load.json", "w"))
PY
load=$!
sleep 3

t0=$SECONDS
step "rolling restart"; rolling
step "rolling upgrade: a newer release's migration applied, instances restart on it"
psql -q "$pg/$db" -c "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m0999_next_release', 0)"
rolling
"$atom" migrate --status | grep -q "1 applied by a newer release"
step "backup, then restore into a new database"
"$atom" backup --to "$work/atom.backup" >/dev/null
psql -q "$pg/test" -c "CREATE DATABASE ${db}_restored"
"$atom" restore --from "$work/atom.backup" --into "$pg/${db}_restored" >"$work/restore.txt"
step "key rotation: a new key first, a rolling restart, every ciphertext re-sealed"
"$atom" keys add --to "$work/keys/master.key" >/dev/null
rolling
"$atom" keys rotate >/dev/null 2>&1
operations=$((SECONDS - t0))
sleep 2
touch "$work/stop"
wait "$load"
total=$(python3 -c "import json;print(json.load(open('$work/load.json'))['total'])")
failed=$(python3 -c "import json;print(json.load(open('$work/load.json'))['failed'])")
statuses=$(python3 -c "import json;print(', '.join(f'{k}: {v}' for k,v in sorted(json.load(open('$work/load.json'))['by_status'].items())))")
echo "requests: $total, failed: $failed ($statuses)"

section=$(cat <<MD
## Deploy test

Measured by \`make deploy-test\` (scripts/deploy-test.sh) on $(date -u +%Y-%m-%d), $(nproc) cores,
$(nginx -v 2>&1 | sed 's/.*: //'), PostgreSQL $(psql -At "$pg/test" -c 'SHOW server_version'). Two production instances (debug build) behind nginx
configured by deploy/nginx.conf (\`max_fails=0\`, \`proxy_next_upstream\`), each draining
5 s on SIGTERM. During ${operations} s of operations (a rolling restart, a rolling upgrade
onto a schema a newer release had expanded, \`atom backup\` and \`atom restore\` into a new
database, \`atom keys add\` with a rolling restart and \`atom keys rotate\`), a steady 20
requests a second went through nginx (\`/signin\`, \`/api/github/health\`, \`/healthz\`,
\`/api/auth/github/authorize\`). The unit file: $unit_check.

| Requests | Failed (5xx or no answer) | Statuses |
|---|---|---|
| $total | **$failed** | $statuses |
MD
)
others=$(sed '/^## Deploy test$/,/^## /{/^## Deploy test$/d;/^## /!d}' BENCHMARKS.md)
printf '%s\n\n%s\n' "$others" "$section" > BENCHMARKS.md
[ "$failed" -eq 0 ]
