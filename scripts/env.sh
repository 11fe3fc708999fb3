# Shared settings for the scripts (sourced, not run).
# Build outputs live outside the clone, one directory per checkout path: a clone reuses its
# earlier builds, and two checkouts never mix their binaries and wasm (server-function paths
# are hashed from the source path, so a server and a wasm from different checkouts disagree).
checkout_id=$(pwd -P | sha256sum | cut -c1-12)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/atom-connect/target-$checkout_id}"
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-leptos builds the server with this flag; passing the same one to `cargo test` lets the
# tests reuse that build instead of compiling ~230 crates a second time.
export ATOM_TEST_RUSTFLAGS="--cfg erase_components"
# A benchmark's number for the goals table `make bench` writes (scripts/bench-goals.mjs): a
# line "name value" in $BENCH_FACTS, when bench.sh set it.
fact() { if [ -n "${BENCH_FACTS:-}" ]; then echo "$1 $2" >>"$BENCH_FACTS"; fi; }
