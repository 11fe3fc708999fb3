#!/usr/bin/env bash
# Every test, against one build: unit and integration tests on SQLite (and the fuzz corpus),
# the integration suite again on PostgreSQL, schemathesis against the API, the alert rules,
# then the Playwright journeys in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
source scripts/env.sh
step() { printf '\n==> %s\n' "$*"; }

step "formatting (cargo fmt --check)"
cargo fmt --all --check

step "build (cargo leptos build)"
cargo leptos build

step "unit and integration tests (SQLite)"
RUSTFLAGS="$ATOM_TEST_RUSTFLAGS" cargo test -p atom -p app -p migrations -p atom-fuzz

step "integration tests (PostgreSQL)"
# Each test makes its own database; forget the ones earlier runs left behind, even while a
# run that was killed still holds connections to them.
psql -h 127.0.0.1 -U postgres -d test -Atc \
  "SELECT datname FROM pg_database WHERE datname LIKE 'atom_test_%'" |
  while read -r db; do psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
ATOM_TEST_DATABASE=postgres RUSTFLAGS="$ATOM_TEST_RUSTFLAGS" cargo test -p atom --test api

step "the API against its own schema (schemathesis)"
venv="$HOME/.cache/atom-connect/venv"
ATOM_BIN="$CARGO_TARGET_DIR/debug/atom" ATOM_SITE_ROOT="$CARGO_TARGET_DIR/site" ST_BIN="$venv/bin/st" \
  "$venv/bin/python" scripts/schemathesis.py

step "alerting rules (promtool check and test)"
scripts/promtool.sh

step "browser journeys (Playwright, Chromium)"
cd end2end
ATOM_BIN="$CARGO_TARGET_DIR/debug/atom" ATOM_SITE_ROOT="$CARGO_TARGET_DIR/site" npx playwright test
