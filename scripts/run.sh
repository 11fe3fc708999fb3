#!/usr/bin/env bash
# Runs the hub at http://localhost:5058 on an embedded SQLite file (.atom/), with the local
# sandbox standing in for every provider that has no credentials. First run: builds, creates
# a development master key and a `demo` user whose password is printed once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo leptos build
export ATOM_SERVER__SITE_ROOT="$CARGO_TARGET_DIR/site"
atom="$CARGO_TARGET_DIR/debug/atom"
"$atom" migrate
"$atom" user add demo --admin --if-missing
echo
echo "ATOM Connect: http://localhost:5058 (sign in as demo; sandbox providers on http://127.0.0.1:5059)"
exec "$atom" serve
