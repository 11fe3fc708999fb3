#!/usr/bin/env bash
# Installs what building (and, with --tests, testing) needs. Idempotent: each step is skipped
# when its tool is already there at the right version. Only the package registries are used.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if ! cargo leptos --version 2>/dev/null | grep -q "0.3.10"; then
  step "cargo install cargo-leptos 0.3.10 (about 20 minutes on 2 cores, once)"
  cargo install --locked cargo-leptos --version 0.3.10
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "0.2.130"; then
  # Without --locked: its lockfile names a webpki-roots release the registry no longer serves.
  step "cargo install wasm-bindgen-cli 0.2.130 (about 4 minutes, once)"
  cargo install wasm-bindgen-cli --version 0.2.130
fi

# npm ci only when the lockfile changed since the last install.
npm_install() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    step "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
}
npm_install .   # tailwindcss and binaryen's wasm-opt, found by cargo-leptos in node_modules/.bin

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { # package, for the tool it provides
  step "apt-get install $1"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1"
}

# Whether a TCP connection from 127.0.0.1 meets `host all all ... trust` as the first rule
# that can apply to it (the first match wins). Replication-only and IPv6 rules never apply;
# any other first rule counts as "not trusted", which at worst adds our two lines once.
hba_trusts_localhost() { # pg_hba.conf
  as_root cat "$1" | awk '
    /^[ \t]*(#|$)/ || $1 !~ /^host/ || $2 == "replication" || $4 ~ /:/ { next }
    { ok = $1 == "host" && $2 == "all" && $3 == "all" && $5 == "trust" &&
           $4 ~ /^(127\.0\.0\.1\/32|127\.0\.0\.0\/8|0\.0\.0\.0\/0|all|samehost)$/; exit }
    END { exit !ok }'
}

# The tests' PostgreSQL: 127.0.0.1:5432, trust for local TCP, a database named test.
setup_postgres() {
  local version name log hba new
  if ! command -v psql >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql   # Debian's; its install usually creates and starts a cluster too
  fi
  if [ -z "$(pg_lsclusters -h)" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
    step "pg_createcluster $version main"
    as_root pg_createcluster --port 5432 "$version" main
  fi
  read -r version name log < <(pg_lsclusters -h | awk '$3 == 5432 { print $1, $2, $7; exit }') || true
  if [ -z "${version:-}" ]; then
    echo "setup.sh: no PostgreSQL cluster on port 5432 (pg_lsclusters lists others); the tests need one" >&2
    exit 1
  fi
  hba=$(pg_conftool -s "$version" "$name" show hba_file 2>/dev/null) ||
    hba="/etc/postgresql/$version/$name/pg_hba.conf"
  if ! hba_trusts_localhost "$hba"; then
    # At the top: the first matching rule wins. Test servers only, never a deployment.
    step "trusting local TCP connections in $hba"
    new=$(mktemp)
    { printf '%s\n' "# Added by scripts/setup.sh --tests: local TCP trusted, for the tests" \
        "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust" ""
      as_root cat "$hba"; } >"$new"
    as_root cp "$new" "$hba"   # cp into the file keeps its owner and mode
    rm -f "$new"
    if as_root pg_ctlcluster "$version" "$name" status >/dev/null; then
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload
    fi
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    step "starting PostgreSQL $version/$name"
    # Already running but not answering (still starting up, say): just wait for it.
    as_root pg_ctlcluster "$version" "$name" status >/dev/null ||
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "setup.sh: PostgreSQL $version/$name is not ready on 127.0.0.1:5432 after 30 s; see $log" >&2
    exit 1
  fi
  # -w: fail rather than prompt if trust is not in effect after all.
  if [ "$(psql -w -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname='test'")" != 1 ]; then
    step "createdb test"
    psql -w -h 127.0.0.1 -U postgres -qc "CREATE DATABASE test"
  fi
}

if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null || apt_install wrk
  command -v sqlite3 >/dev/null || apt_install sqlite3
  npm_install end2end/bench/peer   # the reference peer: express, grant, express-session
  setup_postgres
fi

# Schemathesis (PyPI), in a virtualenv outside the clone: checks the API against its schema.
setup_schemathesis() {
  local venv="$HOME/.cache/atom-connect/venv"
  if ! "$venv/bin/st" --version 2>/dev/null | grep -q "4.32.5"; then
    step "pip install schemathesis 4.32.5 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet schemathesis==4.32.5
  fi
}

if [ "${1:-}" = "--tests" ]; then
  npm_install end2end   # @playwright/test and oidc-provider
  setup_schemathesis
  # Debian's Chromium: Playwright never downloads a browser here.
  [ -x /usr/bin/chromium ] || apt_install chromium
  setup_postgres
fi
