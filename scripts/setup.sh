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

apt_install() { # package, for the tool it provides
  sudo_if_needed=""; [ "$(id -u)" -ne 0 ] && sudo_if_needed="sudo"
  step "apt-get install $1"
  $sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -qq "$1"
}

if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null || apt_install wrk
  command -v sqlite3 >/dev/null || apt_install sqlite3
fi

if [ "${1:-}" = "--tests" ]; then
  npm_install end2end   # @playwright/test and oidc-provider
  # Debian's Chromium: Playwright never downloads a browser here.
  [ -x /usr/bin/chromium ] || apt_install chromium
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    step "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
